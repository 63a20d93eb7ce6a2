"""A drivequeue plugin: which lines of a text file are the most surprising?

A bigram character model (one embedding table of logits) is trained on the file on
the worker's device, then every line is scored by its mean surprise in nats per byte.
"""

import torch
from torch.nn.functional import cross_entropy

from drivequeue import Field, JobKind
from drivequeue.kinds import integer, pushed_file_name

KINDS = [JobKind(name="linescore", version=1,
                 fields={"text": Field(pushed_file_name), "steps": Field(integer(1, 5000), 200)})]


def score(payload, job):
    lines = job.fetch(payload["text"], job.workdir / "input.txt").read_text(encoding="utf-8").splitlines()
    ids = torch.tensor(list("\n".join(lines).encode()), device=job.device)
    model = torch.nn.Embedding(256, 256).to(job.device)  # row a: the logits of the byte after a
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    for step in range(payload["steps"]):
        loss = cross_entropy(model(ids[:-1]), ids[1:])
        optimizer.zero_grad(), loss.backward(), optimizer.step()
        job.progress({"step": step + 1, "of": payload["steps"], "loss": loss.item()})
        job.check()  # stop here on a cancel or a warm stop
    with torch.no_grad():
        scores = [cross_entropy(model(t[:-1]), t[1:]).item() if len(t) > 1 else 0.0
                  for t in (torch.tensor(list(line.encode()), device=job.device) for line in lines)]
    table = job.workdir / "scores.tsv"
    table.write_text("".join(f"{s:.4f}\t{line}\n" for s, line in zip(scores, lines)), encoding="utf-8")
    job.attach(table)
    worst = max(range(len(lines)), key=scores.__getitem__, default=None)
    return {"lines": len(lines), "train_loss": loss.item(),
            "most_surprising": None if worst is None else {"line": worst + 1, "text": lines[worst]}}


def handlers(context):
    return {"linescore": score}
