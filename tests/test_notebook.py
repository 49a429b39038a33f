import pytest

from .helpers import REPO

NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"


def _executed_outputs(name, tmp_path, monkeypatch):
    """Run ``notebooks/<name>`` in quick mode offline from ``tmp_path``; return the text of its outputs."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    monkeypatch.setenv("TEXTRISK_QUICK", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    notebook = nbformat.read(REPO / "notebooks" / name, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    return "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    outputs = _executed_outputs(NOTEBOOK.name, tmp_path, monkeypatch)
    assert "chunks ->" in outputs
    assert "Traceback" not in outputs


FORECAST_NOTEBOOK = REPO / "notebooks" / "forecast_risk.ipynb"


def test_forecast_risk_notebook_runs(tmp_path, monkeypatch):
    """Trains on four small StockNet tickers (or synthetic prices without the data), VaR band, overlay."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    monkeypatch.setenv("TEXTRISK_QUICK", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TEXTRISK_EMBEDDING_CACHE", str(tmp_path / "cache"))
    notebook = nbformat.read(FORECAST_NOTEBOOK, as_version=4)
    nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "test forecasts" in outputs and "overlay realised vol / target:" in outputs
    assert "Traceback" not in outputs
    images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2


def test_filings_notebook_runs(tmp_path, monkeypatch):
    outputs = _executed_outputs("filings.ipynb", tmp_path, monkeypatch)
    assert "negative share of prose" in outputs and "counts ->" in outputs and "flags:" in outputs
    assert "Traceback" not in outputs


@pytest.mark.slow
def test_adapt_to_your_desk_notebook_runs(tmp_path, monkeypatch):
    """Continues the embedded default model on the shipped credit-desk example (a few minutes on 2 CPU cores)."""
    outputs = _executed_outputs("adapt_to_your_desk.ipynb", tmp_path, monkeypatch)
    assert "recipe head (60 training rows, 30 held out)" in outputs and "held-out weighted F1: parent" in outputs
    assert " -> " in outputs and "Traceback" not in outputs
