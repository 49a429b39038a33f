"""Expected calibration error (ECE) as an offline ``evaluate`` metric module."""

import datasets
import evaluate
import numpy as np


class CalibrationError(evaluate.Metric):
    """Top-label ECE: |accuracy - confidence| averaged over equal-width confidence bins, weighted by bin size."""

    def _info(self):
        return evaluate.MetricInfo(
            description="Expected calibration error of the top-label confidence (Guo et al., 2017).",
            citation="Guo, Pleiss, Sun, Weinberger. On Calibration of Modern Neural Networks. ICML 2017.",
            inputs_description="predictions: per-example class probability lists; references: int class ids.",
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64")),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions, references, n_bins=15):
        probs = np.asarray(predictions, dtype=np.float64)
        refs = np.asarray(references)
        confidence = probs.max(axis=1)
        correct = (probs.argmax(axis=1) == refs).astype(np.float64)
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
        ece = 0.0
        for b in range(n_bins):
            in_bin = bins == b
            if in_bin.any():
                ece += in_bin.mean() * abs(correct[in_bin].mean() - confidence[in_bin].mean())
        return {"ece": float(ece)}
