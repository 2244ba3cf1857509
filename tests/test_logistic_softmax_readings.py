"""logistic_softmax hand-ins of the shapes of issue 11, through the real `grade` command.

Each hand-in is the reference with one function rewritten, trimmed to the modules its task
needs where it can be (the other tasks then fail fast as not implemented):
- correct work that used to lose points: the course's official early stopping (10 validations
  counting the best one), unusual return types (lists, mixed 0-d / 1-element, float32), the
  bias as the first column;
- wrong work that used to pass: a model that ignores lambda (4c), a loader that shuffles only
  the order of the batches (2e), pixels scaled to [0, 1] (2a);
- hints that misled: an unstable softmax (3a advice), cancelling sign errors in forward and
  backward (1a: `sign_flipped`), a rule that never fires on a flat loss (2d: what it did, not
  "still to be written"), an accuracy that is wrong (no `scaled` for a scalar).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, run_cli

REFERENCE = REPO / "reference" / "logistic_softmax"

# (module, text of the reference, replacement)
Edit = tuple[str, str, str]

OFFICIAL_EARLY_STOP: list[Edit] = [
    ("trainer.py", """        best_val_loss = float("inf")
        validations_without_improvement = 0
""", ""),
    ("trainer.py", """                    if val_loss < best_val_loss:
                        best_val_loss = val_loss
                        validations_without_improvement = 0
                    else:
                        validations_without_improvement += 1
                    if validations_without_improvement >= self.early_stopping_patience:
                        return train_history, val_history
""", """                    # stop when the oldest of the last 10 validation losses is the lowest of them
                    recent = list(val_history["loss"].values())[-10:]
                    if len(recent) == 10 and recent[0] == min(recent):
                        return train_history, val_history
"""),
]

NEVER_FIRES_ON_FLAT: list[Edit] = [
    ("trainer.py", "                    if val_loss < best_val_loss:\n", "                    if val_loss <= best_val_loss:\n"),
]

BATCHES_ONLY_REORDERED: list[Edit] = [
    ("utils.py", """    for i in range(num_batches):
        batch = indices[i * batch_size : (i + 1) * batch_size]
""", """    order = np.random.permutation(num_batches) if shuffle else np.arange(num_batches)
    for i in order:
        batch = np.arange(num_samples)[i * batch_size : (i + 1) * batch_size]
"""),
]

PIXELS_0_1: list[Edit] = [("task2a.py", "    scaled = X.astype(np.float64) / 127.5 - 1.0\n", "    scaled = X / 255.0\n")]

UNSTABLE_SOFTMAX: list[Edit] = [("task3a.py", "        logits = logits - logits.max(axis=1, keepdims=True)\n", "")]

CANCELLING_SIGNS: list[Edit] = [
    ("task2a.py", "        return 1.0 / (1.0 + np.exp(-(X @ self.w)))\n", "        return 1.0 / (1.0 + np.exp(X @ self.w))\n"),
    ("task2a.py", "        self.grad = -(X.T @ (targets - outputs)) / X.shape[0]\n",
     "        self.grad = (X.T @ (targets - outputs)) / X.shape[0]\n"),
]

LAMBDA_IGNORED: list[Edit] = [
    ("task3a.py", "        self.grad = -(X.T @ (targets - outputs)) / X.shape[0] + self.l2_reg_lambda * self.w\n",
     "        self.grad = -(X.T @ (targets - outputs)) / X.shape[0]\n"),
]

ACCURACY_OF_PREDICTIONS: list[Edit] = [
    ("task2.py", "    return float(np.mean(predictions == targets))\n", "    return float(np.mean(predictions))\n"),
]

UNUSUAL_FORMS: list[Edit] = [
    # bias first, float32, a list of rows
    ("task2a.py", """    scaled = X.astype(np.float64) / 127.5 - 1.0
    bias = np.ones((X.shape[0], 1))
    return np.concatenate([scaled, bias], axis=1)
""", """    scaled = X.astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return [[np.float32(1.0), *row] for row in scaled]
"""),
    # the loss as a list holding a 0-d array
    ("task2a.py", "    return float(np.mean(per_sample))\n", "    return [np.array(np.mean(per_sample))]\n"),
    # the gradient by a loop over the samples, as a list of rows
    ("task2a.py", """        self.grad = -(X.T @ (targets - outputs)) / X.shape[0]
        ### END SOLUTION
        assert self.grad.shape == self.w.shape, (
            f"grad {self.grad.shape} should have the shape of w {self.w.shape}"
        )
""", """        grad = np.zeros(self.w.shape)
        for n in range(X.shape[0]):
            grad[:, 0] += -(targets[n, 0] - outputs[n, 0]) * X[n] / X.shape[0]
        self.grad = grad.tolist()
"""),
    # the multi-class loss as a 1-element float32 array; one-hot as a tuple of lists
    ("task3a.py", "    return float(-np.mean(np.sum(targets * log_outputs, axis=1)))\n",
     "    return np.array([-np.mean(np.sum(targets * log_outputs, axis=1))], dtype=np.float32)\n"),
    ("task3a.py", "    return encoded\n", "    return tuple(row.tolist() for row in encoded)\n"),
]

TRAIN_STEP_ASCENDS: list[Edit] = [
    ("task2.py", "        self.model.w = self.model.w - self.learning_rate * self.model.grad\n",
     "        self.model.w = self.model.w + self.learning_rate * self.model.grad\n"),
]

# student: (edits, modules handed in; None for all of the reference's)
HANDINS: dict[str, tuple[list[Edit], tuple[str, ...] | None]] = {
    "official_early_stop": (OFFICIAL_EARLY_STOP, ("trainer.py", "utils.py")),
    "never_fires_on_flat": (NEVER_FIRES_ON_FLAT, ("trainer.py", "utils.py")),
    "batches_only_reordered": (BATCHES_ONLY_REORDERED, ("utils.py",)),
    "pixels_0_1": (PIXELS_0_1, ("task2a.py", "utils.py")),
    "unstable_softmax": (UNSTABLE_SOFTMAX, ("task3a.py", "utils.py")),
    "cancelling_signs": (CANCELLING_SIGNS, ("task2a.py", "utils.py")),
    "unusual_forms": (UNUSUAL_FORMS, ("task2a.py", "task3a.py", "utils.py")),
    "lambda_ignored": (LAMBDA_IGNORED, None),
    "accuracy_of_predictions": (ACCURACY_OF_PREDICTIONS, None),
    "train_step_ascends": (TRAIN_STEP_ASCENDS, ("task2.py", "task2a.py", "trainer.py", "utils.py")),
}


def build(folder: Path, edits: list[Edit], modules: tuple[str, ...] | None) -> None:
    folder.mkdir(parents=True)
    for source in sorted(REFERENCE.glob("*.py")):
        if modules is None or source.name in modules:
            shutil.copy(source, folder / source.name)
    for module, old, new in edits:
        path = folder / module
        text = path.read_text()
        assert text.count(old) == 1, (module, old)
        path.write_text(text.replace(old, new))


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("ls_readings")
    for student, (edits, modules) in HANDINS.items():
        build(root / "students" / student, edits, modules)
    done = run_cli("grade", str(root / "students"), "-a", "logistic_softmax", "-o", str(root / "out"), "-j", "2",
                   "-q")
    found = {p.parent.name: json.loads(p.read_text()) for p in (root / "out").glob("*/result.json")}
    assert set(found) == set(HANDINS), done.stderr + done.stdout
    return found


def graded_tests(result: dict, task_id: str) -> list[dict]:
    task = next(t for t in result["tasks"] if t["id"] == task_id)
    return [x for x in task["tests"] if not x["name"].startswith("written answer")]


def full_marks(result: dict, task_id: str) -> bool:
    tests = graded_tests(result, task_id)
    return bool(tests) and all(x["passed"] for x in tests)


def test_the_course_s_official_early_stopping_gets_full_marks(results):
    """10 validations counting the best one: 10 on a flat loss where the reference stops after 11."""
    tests = graded_tests(results["official_early_stop"], "2d")
    assert len(tests) == 3 and all(x["passed"] for x in tests), tests
    assert full_marks(results["official_early_stop"], "2e")


def test_a_rule_that_never_fires_on_a_flat_loss_is_told_what_it_did(results):
    tests = graded_tests(results["never_fires_on_flat"], "2d")
    failed = [x for x in tests if not x["passed"]]
    assert len(failed) == 1 and "constant validation loss" in failed[0]["message"], tests
    assert "ran all 300 validations" in failed[0]["message"], failed[0]["message"]
    assert "still to be written" not in failed[0]["message"]
    assert "not_implemented" not in failed[0]["diagnoses"], failed[0]


def test_shuffling_only_the_order_of_the_batches_fails_2e(results):
    tests = graded_tests(results["batches_only_reordered"], "2e")
    public = next(x for x in tests if x["visibility"] == "public")
    assert not public["passed"] and "same consecutive samples" in public["message"], public


def test_pixels_scaled_to_0_1_fail_the_pre_processing_test(results):
    pre = next(x for x in graded_tests(results["pixels_0_1"], "2a") if x["name"].startswith("pre_process_images"))
    assert not pre["passed"] and "[-1, 1]" in pre["message"] and "span [0" in pre["message"], pre
    others = [x for x in graded_tests(results["pixels_0_1"], "2a") if x is not pre]
    assert all(x["passed"] for x in others), others
    assert full_marks(results["pixels_0_1"], "1a")


def test_an_unstable_softmax_gets_the_advice_and_keeps_its_points(results):
    tests = graded_tests(results["unstable_softmax"], "3a")
    advice = next(x for x in tests if x["name"].startswith("advice"))
    assert not advice["passed"] and advice["diagnoses"] == ["numerically_unstable"], advice
    assert all(x["score"] == x["max_score"] for x in tests), tests
    assert full_marks(results["unstable_softmax"], "1b") and full_marks(results["unstable_softmax"], "4a")


def test_cancelling_sign_errors_are_told_sign_flipped_in_1a(results):
    result = results["cancelling_signs"]
    gradient = graded_tests(result, "1a")
    assert gradient and all(not x["passed"] and "sign_flipped" in x["diagnoses"] for x in gradient), gradient
    forward = next(x for x in graded_tests(result, "2a") if x["name"].startswith("BinaryModel.forward"))
    assert not forward["passed"]


def test_correct_work_in_unusual_forms_gets_full_marks(results):
    result = results["unusual_forms"]
    for task_id in ("1a", "1b", "2a", "3a", "4a"):
        assert full_marks(result, task_id), (task_id, [x for x in graded_tests(result, task_id) if not x["passed"]])


def test_a_model_that_ignores_lambda_fails_4c(results):
    result = results["lambda_ignored"]
    four_c = graded_tests(result, "4c")
    assert four_c and not four_c[0]["passed"] and "missing_regularization" in four_c[0]["diagnoses"], four_c
    assert "no effect" in four_c[0]["message"]
    for task_id in ("1a", "1b", "2a", "2b", "2d", "2e", "3a", "3b"):
        assert full_marks(result, task_id), task_id


def test_a_wrong_accuracy_is_not_called_scaled(results):
    result = results["accuracy_of_predictions"]
    accuracy = next(x for x in graded_tests(result, "2b") if x["name"].startswith("calculate_accuracy"))
    assert not accuracy["passed"] and accuracy["diagnoses"] == [], accuracy
    assert "times" not in accuracy["message"], accuracy["message"]
    training = next(x for x in graded_tests(result, "2b") if x is not accuracy)
    assert training["passed"], training  # train_step is right: the accuracy bug is charged once


def test_a_train_step_that_climbs_the_loss_is_below_threshold_in_2b_only(results):
    result = results["train_step_ascends"]
    training = next(x for x in graded_tests(result, "2b") if x["name"].startswith("LogisticTrainer"))
    assert not training["passed"] and training["diagnoses"] == ["below_threshold"], training
    for task_id in ("1a", "2a", "2d", "2e"):
        assert full_marks(result, task_id), task_id
