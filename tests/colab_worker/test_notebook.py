"""The Colab notebook runs top to bottom in smoke mode: a stub ``google.colab``, the checkout
already installed, a local queue, the CPU and the shipped model; it serves one story and exits."""

import os
import re
import tomllib

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from drivequeue.plugins import kinds_of, load
from tests.colab_worker.worker_support import REPO, queue_env, queue_for

NOTEBOOK = REPO / "colab_worker" / "colab_worker.ipynb"
COLAB_STUB = REPO / "tests" / "colab_worker" / "colab_stub"
KAGGLE_STUB = REPO / "tests" / "colab_worker" / "kaggle_stub"


def test_notebook_has_no_committed_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_the_install_cell_installs_what_the_story_worker_needs_beyond_the_notebooks_image():
    extra = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]["worker"]
    needed = {re.match(r"[\w.-]+", requirement).group(0) for requirement in extra}
    # in every notebook image: torch (a CUDA build) and numpy; not needed by a worker on Drive or
    # Redis: matplotlib (the loss plot of `colab-worker train`) and inotify-simple (local folders)
    needed -= {"torch", "numpy", "matplotlib", "inotify-simple"}
    install = nbformat.read(NOTEBOOK, as_version=4).cells[1].source
    assert needed and all(f'"{name}>=' in install for name in needed), needed


def test_notebook_serves_one_story_in_smoke_mode(tmp_path):
    env = queue_env(tmp_path, COLAB_WORKER_SMOKE="1",
                    PYTHONPATH=os.pathsep.join([str(COLAB_STUB), os.environ.get("PYTHONPATH", "")]))
    queue = queue_for(env)
    env["COLAB_SECRET_DRIVEQUEUE_URL"] = env.pop("DRIVEQUEUE_URL")  # the notebook reads it from a secret
    job_id = queue.submit("story", {"seed": "Once upon a time", "lines": 2})

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)

    status = queue.status(job_id)
    assert status["status"] == "done" and status["line_count"] == 2
    output = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for out in cell.outputs)
    assert "smoke mode: using the checkout that is already installed" in output
    assert f"queue: {queue.store.root}" in output
    assert "done after 2 lines" in output


def test_notebook_serves_one_story_on_kaggle_in_smoke_mode(tmp_path):
    """The same notebook on Kaggle: no google.colab, the settings from Kaggle's secrets client."""
    env = queue_env(tmp_path, COLAB_WORKER_SMOKE="1",
                    PYTHONPATH=os.pathsep.join([str(KAGGLE_STUB), os.environ.get("PYTHONPATH", "")]))
    queue = queue_for(env)
    env["KAGGLE_SECRET_DRIVEQUEUE_URL"] = env.pop("DRIVEQUEUE_URL")
    job_id = queue.submit("story", {"seed": "Once upon a time", "lines": 2})

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)

    assert queue.status(job_id)["status"] == "done"
    output = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for out in cell.outputs)
    assert f"queue: {queue.store.root}" in output


def test_notebook_can_start_the_generic_worker_for_a_plugin(tmp_path):
    """WORKER set to "drivequeue worker" in the form: the plugin named by the secret DRIVEQUEUE_PLUGINS is served."""
    env = queue_env(tmp_path, COLAB_WORKER_SMOKE="1",
                    PYTHONPATH=os.pathsep.join([str(COLAB_STUB), str(REPO), os.environ.get("PYTHONPATH", "")]))
    queue = queue_for(env)
    queue.kinds = kinds_of(load(["tests.drivequeue.fn_plugin"], environ={}))
    env["COLAB_SECRET_DRIVEQUEUE_URL"] = env.pop("DRIVEQUEUE_URL")
    env["COLAB_SECRET_DRIVEQUEUE_PLUGINS"] = "tests.drivequeue.fn_plugin"
    job_id = queue.submit("scale", {"x": 2})

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    serve = notebook.cells[-1]
    assert 'WORKER = "colab-worker run"' in serve.source
    serve.source = serve.source.replace('WORKER = "colab-worker run"', 'WORKER = "drivequeue worker"')
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute(env=env)

    assert queue.result(job_id, timeout=10) == 6.0
    output = "".join(out.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                     for out in cell.outputs)
    assert "serving scale, wordcount on cpu" in output


def test_notebook_without_a_queue_secret_says_where_to_add_it(tmp_path):
    env = queue_env(tmp_path, COLAB_WORKER_SMOKE="1",
                    PYTHONPATH=os.pathsep.join([str(KAGGLE_STUB), os.environ.get("PYTHONPATH", "")]))
    env.pop("DRIVEQUEUE_URL")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError, match="Add the secret DRIVEQUEUE_URL"):
        client.execute(env=env)


def test_notebook_asks_for_the_fork_before_installing(tmp_path):
    env = queue_env(tmp_path, PYTHONPATH=os.pathsep.join([str(COLAB_STUB), os.environ.get("PYTHONPATH", "")]))
    env.pop("COLAB_WORKER_SMOKE", None)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError, match="Set REPOSITORY in this cell to your fork"):
        client.execute(env=env)
