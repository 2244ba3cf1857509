"""Forbidden APIs found statically in a task's extracted code, through every form of import."""

from __future__ import annotations

import pytest
from conftest import program_from_source

from grader.model import Diagnosis
from grader.model import TestOutcome as Outcome
from grader.policy import apply_policy, forbidden_calls

POLICY = ("torch.nn.*", "!torch.nn.Parameter", "torch.optim.*", "torch.softmax", "torch.log_softmax",
          "torch.relu", "torch.nn.functional.*", ".softmax", ".relu")


def findings(source: str, needs: tuple[str, ...] = ("softmax",), elsewhere: frozenset[str] = frozenset()):
    return forbidden_calls(program_from_source(source, needs), needs, POLICY, elsewhere)


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import torch\ndef softmax(X):\n    return torch.softmax(X, dim=1)\n", "torch.softmax"),
        ("from torch import softmax as sm\ndef softmax(X):\n    return sm(X, 1)\n", "torch.softmax"),
        ("import torch.nn.functional as F\ndef softmax(X):\n    return F.softmax(X, 1)\n",
         "torch.nn.functional.softmax"),
        ("from torch.nn import functional\ndef softmax(X):\n    return functional.softmax(X, 1)\n",
         "torch.nn.functional.softmax"),
        ("import torch\ndef softmax(X):\n    return torch.nn.Softmax(dim=1)(X)\n", "torch.nn.Softmax"),
        ("from torch import nn\nclass Net(nn.Module):\n    pass\ndef softmax(X):\n    return Net()(X)\n",
         "torch.nn.Module"),
        ("import torch\ndef softmax(X):\n    return X.softmax(dim=1)\n", "?.softmax"),
        ("def softmax(X):\n    import torch.nn.functional as F\n    return F.softmax(X, 1)\n",
         "torch.nn.functional.softmax"),
        ("import torch\nopt = torch.optim.SGD\ndef softmax(X):\n    return opt(X)\n", "torch.optim.SGD"),
    ],
)
def test_forbidden_uses_are_found_through_aliases(source, named):
    found = findings(source)
    assert found, source
    assert all(f.diagnosis is Diagnosis.FORBIDDEN_API for f in found)
    assert any(f"`{named}`" in f.message for f in found), [f.message for f in found]
    assert all(f.line is not None and f.filename for f in found)


def test_the_message_names_the_file_and_line():
    (finding,) = findings("import torch\n\n\ndef softmax(X):\n    return torch.softmax(X, dim=1)\n")
    assert finding.message.startswith("submission.py, line 5: uses `torch.softmax`"), finding.message


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ndef softmax(X):\n    E = torch.exp(X - X.max(dim=1, keepdim=True).values)\n"
        "    return E / E.sum(dim=1, keepdim=True)\n",
        "import torch\nW = torch.nn.Parameter(torch.zeros(3))\ndef softmax(X):\n    return torch.exp(X + W)\n",
        "import torch\ndef softmax(X):\n    F = torch.exp\n    return F(X) / F(X).sum(1, keepdim=True)\n",
        "def softmax(x):\n    return x\nclass A:\n    def relu(self, x):\n        return self.relu(x)\n",
    ],
)
def test_allowed_code_has_no_findings(source):
    assert findings(source) == ()


def test_a_forbidden_call_in_another_tasks_function_is_judged_there():
    source = ("import torch\ndef softmax(X):\n    return torch.softmax(X, 1)\n"
              "def net(X):\n    return softmax(X)\n")
    assert findings(source, ("net",), frozenset({"softmax"})) == ()
    assert findings(source, ("net",))  # without that knowledge the helper counts


def test_apply_policy_fails_every_outcome_of_the_task():
    outcomes = (
        Outcome("relu", "4.1", "public", True),
        Outcome("written", "4.1", "public", True, is_question=True, partial=1.0, weight=2.0),
        Outcome("net", "4.2", "public", True),
    )
    (finding,) = findings("import torch\ndef softmax(X):\n    return torch.softmax(X, 1)\n")
    changed = apply_policy(outcomes, {"4.1": (finding,)})
    assert [o.passed for o in changed] == [False, False, True]
    assert changed[0].diagnoses == (Diagnosis.FORBIDDEN_API,) and "torch.softmax" in changed[0].message
    assert changed[1].partial == 0.0
    assert changed[2] is outcomes[2]


def test_each_function_is_judged_in_the_first_task_that_needs_it():
    """bayes_mlp: torch.softmax in softmax costs 4.1; in net, 4.2; neither costs 4.4, which only reuses them."""
    from pathlib import Path

    from grader.assignment import load_assignment
    from grader.model import Cell, SourceFile
    from grader.policy import policy_findings

    assignment = load_assignment(Path(__file__).resolve().parents[1] / "assignments" / "bayes_mlp")
    base = ("import torch\nW1 = torch.nn.Parameter(torch.zeros(784, 256))\nb1 = W2 = b2 = W1\n"
            "def relu(x):\n    return torch.clamp(x, min=0)\n"
            "def softmax(X):\n    return SOFTMAX\n"
            "def net(X):\n    return NET\n"
            "def cross_entropy(y_hat, y):\n    return -torch.log(y_hat[range(len(y_hat)), y])\n"
            "def sgd(params, lr):\n    pass\n"
            "def train(net, params, train_iter, loss_func, updater):\n    pass\n")

    def tasks(softmax: str, net: str) -> set[str]:
        source = base.replace("SOFTMAX", softmax).replace("NET", net)
        files = (SourceFile("submission", "s.ipynb", (Cell(0, "code", source),), True),)
        return set(policy_findings(assignment, files))

    fine_softmax, fine_net = "torch.exp(X) / torch.exp(X).sum(1, keepdim=True)", "softmax(relu(X @ W1 + b1) @ W2 + b2)"
    assert tasks(fine_softmax, fine_net) == set()
    assert tasks("torch.softmax(X, dim=1)", fine_net) == {"4.1"}
    assert tasks(fine_softmax, "torch.nn.functional.softmax(X @ W1, 1)") == {"4.2"}
