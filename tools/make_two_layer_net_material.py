"""Write reference/two_layer_net/report.ipynb and the example class examples/two_layer_net_submissions/.

Usage:
    python tools/make_two_layer_net_material.py           # (re)write both
    python tools/make_two_layer_net_material.py --check   # exit 1 if anything is out of date

The report notebook holds the written answers 6a and 6b (markdown cells tagged `answer:6a`,
`answer:6b`); `grader assign two_layer_net` empties them in the template. The example class is
made of the reference's `two_layernet.py` with one mistake each, as the handout's "Cases the
tests must get right" lists them (our own code, no copy of any public solution), plus the
reference itself and the untouched template. tests/test_two_layer_net.py pins how each is graded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference" / "two_layer_net"
TEMPLATE = REPO / "student_template" / "two_layer_net"
EXAMPLES = REPO / "examples" / "two_layer_net_submissions"

ANSWER_6A = r"$$\frac{\partial J}{\partial z^{(3)}} = \frac{1}{N}\left(\psi(z^{(3)}) - \Delta\right)$$"
ANSWER_6B = r"$$\frac{\partial}{\partial W^{(1)}} \lambda \lVert W^{(1)} \rVert^2 = 2 \lambda W^{(1)}$$"


def report(answer_6a: str = ANSWER_6A, answer_6b: str = ANSWER_6B) -> nbformat.NotebookNode:
    """The report notebook: the two written questions, each followed by its tagged answer cell."""
    cells = [
        nbformat.v4.new_markdown_cell(
            "# A two-layer network: the written questions\n\n"
            "Write each answer in the cell tagged `answer:QID` below its question, as LaTeX math. "
            "The code is graded from `two_layernet.py`."),
        nbformat.v4.new_markdown_cell(
            "## Question 6a\n\nWith $\\psi$ the softmax, $\\Delta$ the one-hot matrix of the labels and "
            "$J = \\frac{1}{N}\\sum_{i=1}^N -\\log \\psi(z^{(3)})_{i, y_i}$, give "
            "$\\frac{\\partial J}{\\partial z^{(3)}}$ for the $N$ samples of a batch."),
        nbformat.v4.new_markdown_cell(answer_6a, metadata={"tags": ["answer:6a"]}),
        nbformat.v4.new_markdown_cell(
            "## Question 6b\n\nGive the gradient of the regularization term $\\lambda \\lVert W^{(1)} \\rVert^2$ "
            "(in the code, `reg * np.sum(W1 * W1)`) with respect to $W^{(1)}$."),
        nbformat.v4.new_markdown_cell(answer_6b, metadata={"tags": ["answer:6b"]}),
        nbformat.v4.new_code_cell(
            "import numpy as np\nfrom two_layernet import TwoLayerNet\n\n"
            "np.random.seed(0)\nnet = TwoLayerNet(4, 10, 3, std=1e-1)\n"
            "np.random.seed(1)\nX = 10 * np.random.randn(5, 4)\ny = np.array([0, 1, 2, 2, 1])\n"
            "loss, _ = net.loss(X, y, reg=0.05)\nprint('difference from the starter:', abs(loss - 1.30378789133))"),
    ]
    return with_ids(nbformat.v4.new_notebook(cells=cells, metadata={"grader": {"assignment": "two_layer_net"}}))


def with_ids(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Fixed cell ids (nbformat draws random ones), so that the files do not change from run to run."""
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    return notebook


# (student, {old text of the reference: new text}); each old text must occur exactly once.
MUTANTS: dict[str, dict[str, str]] = {
    # a loss that ignores its reg and uses the toy's 0.05
    "hardcoded_reg": {
        "        N = X.shape[0]\n": "        N = X.shape[0]\n        reg = 0.05  # as in the notebook\n",
    },
    # the L2 gradient reg * W with the loss reg * sum W^2: task 3 only
    "reg_w_gradient": {
        "grads[\"W2\"] = a2.T.dot(dz3) + 2.0 * reg * W2": "grads[\"W2\"] = a2.T.dot(dz3) + reg * W2",
        "grads[\"W1\"] = X.T.dot(dz2) + 2.0 * reg * W1": "grads[\"W1\"] = X.T.dot(dz2) + reg * W1",
    },
    # 0.5 * reg * sum W^2 with its matching gradient reg * W: self-consistent, the wrong convention
    "half_reg": {
        "loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))":
            "loss = data_loss + 0.5 * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))",
        "grads[\"W2\"] = a2.T.dot(dz3) + 2.0 * reg * W2": "grads[\"W2\"] = a2.T.dot(dz3) + reg * W2",
        "grads[\"W1\"] = X.T.dot(dz2) + 2.0 * reg * W1": "grads[\"W1\"] = X.T.dot(dz2) + reg * W1",
    },
    # minibatches without replacement: the toy's batch of 200 from 5 samples raises
    "no_replacement": {
        "np.random.choice(num_train, batch_size, replace=True)": "np.random.choice(num_train, batch_size, replace=False)",
    },
    # the backward pass left as `pass`; train uses the gradients
    "no_backward": {
        "        grads = {}\n": "        grads = {}\n        pass  # TODO backward pass\n",
        "        dz3 = probabilities.copy()\n": "        return loss, grads\n        dz3 = probabilities.copy()\n",
    },
    # lowercase parameter names: keyword calls loss(X, y=..., reg=...) break
    "lowercase_keywords": {
        "def loss(self, X, y=None, reg=0.0):": "def loss(self, x, Y=None, reg=0.0):\n        X, y = x, Y",
        "loss, grads = self.loss(X_batch, y=y_batch, reg=reg)": "loss, grads = self.loss(X_batch, y_batch, reg)",
    },
    # the biases regularized too, in the loss and the gradient
    "regularized_biases": {
        "loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))":
            "loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(b1 * b1) + np.sum(b2 * b2))",
        "grads[\"b2\"] = np.sum(dz3, axis=0)": "grads[\"b2\"] = np.sum(dz3, axis=0) + 2.0 * reg * b2",
        "grads[\"b1\"] = np.sum(dz2, axis=0)": "grads[\"b1\"] = np.sum(dz2, axis=0) + 2.0 * reg * b1",
    },
    # every minibatch is the first batch_size samples
    "first_rows": {
        "rows = np.random.choice(num_train, batch_size, replace=True)":
            "rows = np.arange(min(batch_size, num_train))",
    },
    # the batch size taken from num_iters
    "batch_from_iters": {
        "rows = np.random.choice(num_train, batch_size, replace=True)":
            "rows = np.random.choice(num_train, num_iters, replace=True)",
    },
    # X cast to an integer type before training
    "int_cast": {
        "        num_train = X.shape[0]\n": "        X = X.astype(int)\n        num_train = X.shape[0]\n",
    },
    # bias gradients of shape (1, H) and (1, C)
    "bias_row_gradients": {
        "grads[\"b2\"] = np.sum(dz3, axis=0)": "grads[\"b2\"] = np.sum(dz3, axis=0, keepdims=True)",
        "grads[\"b1\"] = np.sum(dz2, axis=0)": "grads[\"b1\"] = np.sum(dz2, axis=0, keepdims=True)",
    },
    # predict returning float labels
    "float_predict": {
        "y_pred = np.argmax(z3, axis=1)": "y_pred = np.argmax(z3, axis=1).astype(float)",
    },
    # predict without axis=1: one label for the whole batch
    "scalar_predict": {
        "y_pred = np.argmax(z3, axis=1)": "y_pred = np.argmax(z3)",
    },
    # shapes hard-coded to the toy: 5 samples
    "toy_shapes": {
        "        dz3 = probabilities.copy()\n        dz3[np.arange(N), y] -= 1.0\n":
            "        delta = np.zeros((5, 3))  # 5 samples, 3 classes\n        delta[np.arange(N), y] = 1.0\n"
            "        dz3 = probabilities - delta\n",
    },
    # a softmax that does not subtract the row maximum
    "unstable_softmax": {
        "shifted = z3 - np.max(z3, axis=1, keepdims=True)  # the same softmax, without overflow":
            "shifted = z3",
    },
    # everything in float32: passes (tolerances follow the precision of what is returned)
    "float32": {
        '        W1, b1 = self.params["W1"], self.params["b1"]\n        W2, b2 = self.params["W2"], self.params["b2"]\n':
            '        W1, b1 = self.params["W1"].astype(np.float32), self.params["b1"].astype(np.float32)\n'
            '        W2, b2 = self.params["W2"].astype(np.float32), self.params["b2"].astype(np.float32)\n'
            '        X, reg = X.astype(np.float32), np.float32(reg)\n',
        "dz3 /= N  #": "dz3 /= np.float32(N)  #",
        "grads[\"W2\"] = a2.T.dot(dz3) + 2.0 * reg * W2": "grads[\"W2\"] = a2.T.dot(dz3) + np.float32(2) * reg * W2",
        "grads[\"W1\"] = X.T.dot(dz2) + 2.0 * reg * W1": "grads[\"W1\"] = X.T.dot(dz2) + np.float32(2) * reg * W1",
    },
    # torch in the graded function
    "uses_torch": {
        "import numpy as np\n": "import numpy as np\nimport torch\n",
        "a2 = np.maximum(z2, 0.0)": "a2 = torch.relu(torch.from_numpy(z2)).numpy()",
    },
}

# Hand-ins that are more than one mutation of the reference.
LOOP_DELTA = '''        delta = np.zeros_like(probabilities)
        for i in range(N):
            delta[i, y[i]] = 1.0
        dz3 = (probabilities - delta) / N
'''


def mutate(source: str, changes: dict[str, str], student: str) -> str:
    for old, new in changes.items():
        if source.count(old) != 1:
            raise SystemExit(f"{student}: {old!r} occurs {source.count(old)} times in the reference")
        source = source.replace(old, new)
    return source


def class_files() -> dict[Path, bytes]:
    """Every file of the example class, by path under EXAMPLES."""
    reference = (REFERENCE / "two_layernet.py").read_text(encoding="utf-8")
    answers = nbformat.writes(report()).encode()
    files: dict[Path, bytes] = {}
    for student, changes in MUTANTS.items():
        files[Path(student) / "two_layernet.py"] = mutate(reference, changes, student).encode()
        files[Path(student) / "report.ipynb"] = answers
    files[Path("reference") / "two_layernet.py"] = reference.encode()
    files[Path("reference") / "report.ipynb"] = answers
    for path in sorted(TEMPLATE.iterdir()):
        if path.is_file():
            files[Path("template") / path.name] = path.read_bytes()
    # the other course's file name, xrange from past.builtins, a loop building Delta, transposed softmax
    other = mutate(reference, {
        "import numpy as np\n": "import numpy as np\nfrom past.builtins import xrange\nimport torch  # unused\n"
                                "from tqdm import tqdm\nfrom gradient_check import eval_numerical_gradient\n",
        "        dz3 = probabilities.copy()\n        dz3[np.arange(N), y] -= 1.0\n        dz3 /= N"
        "  # dJ/dz3 = (psi(z3) - Delta) / N\n": LOOP_DELTA.replace("range(N)", "xrange(N)"),
        "        for it in range(num_iters):\n": "        for it in tqdm(range(num_iters)):\n",
        "        exponentials = np.exp(shifted)\n        probabilities = exponentials / np.sum(exponentials, axis=1, "
        "keepdims=True)\n": "        exponentials = np.exp(shifted).T\n        probabilities = (exponentials / "
                            "np.sum(exponentials, axis=0)).T\n        exponentials = exponentials.T\n",
        "        a2 = np.maximum(z2, 0.0)\n": "        a2 = z2  # the same array\n        np.maximum(a2, 0.0, out=a2)  # ReLU in place: z2 changes too\n",
    }, "other_edition")
    files[Path("other_edition") / "neural_net.py"] = other.encode()
    files[Path("other_edition") / "gradient_check.py"] = b'"""The starter\'s helpers (not graded)."""\n\n' \
        b"def eval_numerical_gradient(f, x, verbose=True, h=0.00001):\n    raise NotImplementedError\n"
    files[Path("other_edition") / "report.ipynb"] = answers
    # a renamed file and wrong written answers
    files[Path("renamed") / "Two_LayerNet.py"] = reference.encode()
    files[Path("renamed") / "report.ipynb"] = nbformat.writes(report(
        r"$$\psi(z^{(3)}) - \Delta$$", r"$$\lambda W^{(1)}$$")).encode()
    # a Python 2 copy: print statements
    files[Path("python2") / "two_layernet.py"] = mutate(reference, {
        '                print(f"iteration {it} / {num_iters}: loss {loss:f}")':
            "                print 'iteration %d / %d: loss %f' % (it, num_iters, loss)",
    }, "python2").encode()
    # a notebook: the class in a cell between imports of the starter's helpers, driver code and plots
    class_source = reference.split('"""', 2)[2].replace("import numpy as np\n", "", 1).strip() + "\n"
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Two-layer net"),
        nbformat.v4.new_code_cell("import numpy as np\nimport matplotlib.pyplot as plt\n"
                                  "from data_utils import load_CIFAR10\nfrom vis_utils import visualize_grid\n"
                                  "%matplotlib inline"),
        nbformat.v4.new_code_cell(class_source),
        nbformat.v4.new_code_cell("X_train, y_train, X_test, y_test = load_CIFAR10('cifar-10-batches-py')\n"
                                  "net = TwoLayerNet(3072, 50, 10)\nstats = net.train(X_train, y_train, X_test, "
                                  "y_test, num_iters=1000, verbose=True)\nplt.plot(stats['loss_history'])"),
        nbformat.v4.new_markdown_cell("**Answer 6a**\n\n" + ANSWER_6A),
        nbformat.v4.new_markdown_cell("**Answer 6b**\n\n$2\\lambda\\, W_1$"),
    ])
    files[Path("notebook.ipynb")] = nbformat.writes(with_ids(notebook)).encode()
    # one file: the class, the answers as an ANSWERS dict, a driver under __main__
    files[Path("single_file.py")] = (reference + '\n\nANSWERS = {\n    "6a": r"\\frac{\\psi(z^{(3)}) - \\Delta}{N}",\n'
                                     '    "6b": "2 * reg * W1",\n}\n\nif __name__ == "__main__":\n'
                                     '    net = TwoLayerNet(4, 10, 3, std=1e-1)\n'
                                     '    print(net.loss(np.ones((5, 4))))\n').encode()
    # two byte-identical hand-ins
    copied = mutate(reference, {"a2 = np.maximum(z2, 0.0)": "a2 = z2 * (z2 > 0)"}, "copy").encode()
    files[Path("copy_a") / "two_layernet.py"] = copied
    files[Path("copy_b") / "two_layernet.py"] = copied
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report what is out of date")
    args = parser.parse_args()
    wanted = {REFERENCE / "report.ipynb": nbformat.writes(report()).encode()}
    wanted.update({EXAMPLES / k: v for k, v in class_files().items()})
    stale = [p for p, content in wanted.items() if not p.is_file() or p.read_bytes() != content]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(REPO)}")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wanted[path])
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
