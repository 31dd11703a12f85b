"""Classroom lessons: short guided tours through the pages, each step one shareable page URL plus a narrative.

Pure data. A step names a page by its key in the app's page list (which is also its URL path), the URL
query parameters that set that page up (the names of the page's config fields in ``playground.state``), a
title and 2-4 sentences telling the student what to look at and what to conclude. ``lesson_query`` adds
``lesson=<id>&step=<k>`` (k counts from 0), which is how a page knows to show the lesson banner.

This module imports nothing heavy (no TensorFlow, no ``playground.state``) so that the Lessons page paints
at once; tests check every step's query against the page's config with ``state.from_query``.

The numbers quoted in the narratives were measured with the bundled models and the bundled 1000-image test
samples; the narratives ask students to read the page's own numbers and say "about".

Titles, summaries and narratives are marked with ``N_`` (``playground.i18n``): whoever shows one translates it
there with ``_()``.

Example:

```python
from playground import lessons

lesson = lessons.LESSONS["fgsm_vs_pgd"]
lesson.steps[0].page              # "attack"
lessons.lesson_query("fgsm_vs_pgd", 1)  # {"dataset": "mnist", ..., "lesson": "fgsm_vs_pgd", "step": "1"}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from playground.i18n import N_, _

# URL parameters of the classroom itself (every other parameter belongs to a page's config).
LESSON_PARAM = "lesson"
STEP_PARAM = "step"

HOME_PAGE = "home"  # the theory; it has no settings, so its steps carry none
ATTACK_PAGE = "attack"
DEFEND_PAGE = "defend"
TRAIN_PAGE = "build_and_train"


@dataclass(frozen=True)
class Step:
    """One stop of a lesson: a page, the URL settings that set it up, and what to look at there."""

    page: str
    query: Mapping[str, str]
    title: str
    narrative: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "query", MappingProxyType(dict(self.query)))


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...]


class LessonNotFound(ValueError):
    """A ``lesson``/``step`` pair that names no step; the message says what was wrong, for the user."""


def _attack(**query: str) -> dict[str, str]:
    return {"dataset": "mnist", "model": "cnn", "image": "0", "attack": "fgsm", "eps": "0.1"} | query


def _defend(**query: str) -> dict[str, str]:
    return {
        "tab": "transforms", "dataset": "mnist", "model": "standard", "defences": "", "threat": "bpda",
        "attack": "pgd", "eps": "0.1", "n": "100",
    } | query


def _train(**query: str) -> dict[str, str]:
    # Noisy circles and a wide net over every feature: it overfits the noise into islands that a push of 0.5
    # reaches (measured: PGD robust accuracy 0.75 standard, 0.87 adversarially trained, at 150 epochs).
    return {
        "dataset": "circle", "noise": "30", "features": "x1,x2,x1sq,x2sq,x1x2,sin_x1,sin_x2", "layers": "16,16,16",
        "activations": "relu,relu,relu", "lr": "0.01", "speed": "max", "lens": "true", "lens_attack": "pgd",
        "lens_norm": "inf", "lens_eps": "0.5", "adv_train": "false", "adv_eps": "0.5",
    } | query


_LESSONS = (
    Lesson(
        id="linear",
        title=N_("Why linear models are easy to fool"),
        summary=N_("FGSM against a linear classifier and a CNN on MNIST, then the linearity view that explains both "
                   "(Goodfellow, Shlens & Szegedy 2015)."),
        steps=(
            Step(
                ATTACK_PAGE,
                _attack(model="softmax", eps="0.25"),
                N_("A linear model at ε = 0.25"),
                N_("This is softmax regression: a single linear layer from the 784 pixels to 10 logits, the kind of "
                   "model Goodfellow et al. fooled on 99.9% of MNIST at ε = 0.25. Look at the verdict and the "
                   "probability bars: the 7 is now read as another digit. Now slide ε down until the 7 comes back: on "
                   "this image the linear model already falls at about ε = 0.05, about a dozen grey levels per "
                   "pixel."),
            ),
            Step(
                ATTACK_PAGE,
                _attack(model="cnn", eps="0.25"),
                N_("The same attack on a CNN"),
                N_("Same image, same single FGSM step, now against the small CNN (about 99% clean accuracy). It is "
                   "fooled at ε = 0.25 as well. Slide ε down again: the CNN holds out to a larger ε than the linear "
                   "model (about 0.2 on this 7), but one gradient-sign step still beats it, so depth and non-linear "
                   "layers did not make it robust."),
            ),
            Step(
                ATTACK_PAGE,
                _attack(model="cnn", eps="0.25"),
                N_("Why so easy? The linearity view"),
                N_("Open the expander **Why so easy? The linearity view** below the probability bars. It plots every "
                   "logit as the image moves along the FGSM direction, from ε = −0.5 to 0.5. The curves are close to "
                   "straight lines: along this direction the CNN behaves almost linearly, so tiny changes in 784 "
                   "pixels add up to a large change in the logits. Switch the Architecture to Softmax regression in "
                   "the sidebar to compare with perfectly straight lines."),
            ),
        ),
    ),
    Lesson(
        id="fgsm_vs_pgd",
        title=N_("FGSM vs PGD: one-step attacks underestimate the threat"),
        summary=N_("The same ε-budget spent in one step and in twenty: a model that survives FGSM can still fall to "
                   "PGD (Madry et al. 2018)."),
        steps=(
            Step(
                ATTACK_PAGE,
                _attack(image="7", attack="fgsm", eps="0.1"),
                N_("One step: FGSM at ε = 0.1"),
                N_("FGSM takes a single step of size ε in the direction of the sign of the loss gradient. On this test "
                   "image the CNN is not fooled at ε = 0.1: note the verdict and how confident the model stays. Would "
                   "you call this model robust at ε = 0.1?"),
            ),
            Step(
                ATTACK_PAGE,
                _attack(image="7", attack="pgd", eps="0.1"),
                N_("Twenty steps: PGD at the same ε"),
                N_("PGD takes 20 small steps from a random start, projecting back into the same ε-ball after each. "
                   "Same image, same ε, same budget: now the prediction flips. Open **PGD step by step** and scrub "
                   "through the iterations to watch the loss climb. FGSM's failure was a weakness of the attack, not a "
                   "strength of the model."),
            ),
            Step(
                ATTACK_PAGE,
                _attack(image="7", attack="pgd", eps="0.1"),
                N_("Across many images"),
                N_("Open the **Many images** tab and press Run: it attacks 1000 test images with FGSM and PGD at every "
                   "ε. Compare the two curves: PGD's curve lies below FGSM's (at ε = 0.1 the bundled CNN keeps about "
                   "80% against FGSM but only about 60% against PGD). Robustness measured with a one-step attack is an "
                   "overestimate: report the strongest attack you can run."),
            ),
        ),
    ),
    Lesson(
        id="gradient_masking",
        title=N_("Gradient masking: JPEG looks safe until BPDA"),
        summary=N_("Input transforms against attacks that ignore them and attacks that see through them (Athalye, "
                   "Carlini & Wagner 2018). Judge from the numbers."),
        steps=(
            Step(
                DEFEND_PAGE,
                _defend(defences="jpeg", quality="30", threat="unaware", n="1000"),
                N_("JPEG against an attacker who ignores it"),
                N_("The table attacks the standard CNN with PGD-20 at ε = 0.1 on 1000 test images, with JPEG "
                   "compression (quality 30) in front of the model. The highlighted column, **Defence-unaware**, "
                   "attacks the bare model and then feeds the result through JPEG. Compare the JPEG row with the No "
                   "defence row: JPEG seems to win back a good share of the accuracy."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(defences="jpeg", quality="30", threat="bpda", n="1000"),
                N_("The same JPEG under BPDA"),
                N_("BPDA attacks through the defence, pretending on the backward pass that JPEG is the identity. "
                   "Compare the Defence-unaware and BPDA columns of the JPEG row and judge for yourself: on MNIST at "
                   "ε = 0.1 the gap is small (about 77% vs 75%), so this experiment alone does not show that JPEG is "
                   "broken. A small gap can also mean the adaptive attack is too weak, so try a larger ε. The next "
                   "step shows a transform where the gap is clear."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(defences="median", median="2", threat="bpda", n="1000"),
                N_("Median filter: the gap in plain sight"),
                N_("The median filter is another classic input 'squeezer'. Compare the Defence-unaware and BPDA "
                   "columns again: against the attacker who ignores it, it keeps about 87%; once the attack sees "
                   "through it, about 67%, much closer to the 59% without any defence. Most of its apparent strength "
                   "was the attacker's ignorance. A defence is only as good as the best attack that knows about it."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(defences="median", median="2", threat="bpda", attack="autoattack", n="100"),
                N_("The thorough check"),
                N_("Every figure so far is an upper bound: PGD-20 is a quick attack, and a stronger one can only lower "
                   "it. This step runs **Thorough: AutoAttack** (APGD and the gradient-free Square attack) on 100 "
                   "images, which takes a minute or two: under BPDA the median filter falls from about 70% (PGD-20 on "
                   "the same 100 images) to about 65%, and no defence from 65% to 58%. Read the verdict: it only says "
                   "a defence holds once AutoAttack agrees."),
            ),
        ),
    ),
    Lesson(
        id="adversarial_training",
        title=N_("Adversarial training moves the boundary"),
        summary=N_("Train a toy network with and without adversarial examples and watch the decision boundary back "
                   "away from the data; then the same idea on MNIST."),
        steps=(
            Step(
                TRAIN_PAGE,
                _train(adv_train="false"),
                N_("A standard network under the attack lens"),
                N_("Press Play for a few hundred epochs, then Pause. This wide network fits the noisy circle closely: "
                   "its boundary wraps around single noisy points. The attack lens pushes every test point by up to "
                   "ε = 0.5 (L∞, in the data's units) with PGD against its true class. Count the points that cross, "
                   "read the robust accuracy, and look at the minimum-ε map: dark means safe, bright means one small "
                   "push flips the decision."),
            ),
            Step(
                TRAIN_PAGE,
                _train(adv_train="true"),
                N_("The same network, trained adversarially"),
                N_("Now half of every batch's loss is on FGSM points at ε = 0.5. Press Reset, then Play: the same "
                   "network from the same initial weights, trained on attacks. Watch the boundary smooth out and back "
                   "away from the points, then Pause and compare the lens: fewer crossings and a higher robust "
                   "accuracy (about 0.87 against 0.75 in our runs), the minimum-ε map dark further from the data."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(tab="training", model="adversarial"),
                N_("The same idea on MNIST"),
                N_("The **Adversarial training** tab trains the CNN on attacked images, live. Scroll to **Standard vs "
                   "adversarially trained**: the robust model's input gradients look like pen strokes of the digit, "
                   "the standard model's like noise. Draw the accuracy-vs-ε curves to see how much ground it holds "
                   "under PGD."),
            ),
        ),
    ),
    Lesson(
        id="tradeoff",
        title=N_("Robustness vs accuracy: the trade-off"),
        summary=N_("Clean and robust accuracy of a standard and an adversarially trained CNN: robustness is paid for "
                   "in clean accuracy (Tsipras et al. 2019)."),
        steps=(
            Step(
                DEFEND_PAGE,
                _defend(dataset="fashion_mnist", model="standard", n="500"),
                N_("A standard Fashion-MNIST CNN"),
                N_("With no defence selected the table has a single row: clean accuracy, and accuracy under PGD-20 at "
                   "ε = 0.1, on 500 test images. Note both numbers: the standard CNN is accurate (about 90%) and "
                   "almost never right under attack."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(dataset="fashion_mnist", model="adversarial", n="500"),
                N_("The adversarially trained CNN"),
                N_("The same table for a CNN trained on FGSM examples at ε = 0.1. Compare with the previous step: "
                   "robust accuracy jumps (to about 59%) while clean accuracy drops by about ten points (to about "
                   "80%). On MNIST the price is barely visible (about 98.6% vs 98.3% clean): switch the dataset in the "
                   "sidebar and check."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(tab="training", dataset="fashion_mnist", model="adversarial"),
                N_("Where the trade-off shows"),
                N_("Under **Standard vs adversarially trained**, press **Draw accuracy-vs-ε curves**: the robust curve "
                   "starts lower at ε = 0 (clean accuracy) and stays far higher at every ε > 0. The saliency maps show "
                   "what was traded: the robust model relies on shapes a person would use, and gives up the brittle "
                   "features that made the standard model more accurate on clean images."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(dataset="fashion_mnist", model="adversarial", attack="autoattack", n="100"),
                N_("How much robustness, really?"),
                N_("The same table under **Thorough: AutoAttack**, on 100 images (about half a minute). PGD-20 left "
                   "about 55% of these images robust; AutoAttack leaves about 49%. The trade-off is real, but the "
                   "robustness bought is smaller than the quick attack said: report the strongest attack you ran, and "
                   "call its figure an upper bound."),
            ),
        ),
    ),
    Lesson(
        id="fundamentals",
        title=N_("From one neuron to a network"),
        summary=N_("What a neuron computes, how softmax and cross-entropy score a prediction, how backpropagation "
                   "assigns the blame, and why one neuron cannot learn what a small network can."),
        steps=(
            Step(
                HOME_PAGE,
                {},
                N_("One neuron"),
                N_("Under **The theory**, find **One neuron**. Its output is the activation of one number, "
                   "z = w₁x₁ + w₂x₂ + b: set both weights to 0 and the output no longer depends on the inputs at all. "
                   "Make w₁ negative and watch its link turn orange and the output fall as x₁ grows."),
            ),
            Step(
                HOME_PAGE,
                {},
                N_("Scoring a prediction, and who is to blame"),
                N_("In **Softmax and cross-entropy**, raise the logit of 8 above the logit of 3: with 3 the true "
                   "class, the loss climbs from about 0.35. Then in **Backpropagation**, press **Take one step** five "
                   "times and read the loss on the example fall, from about 0.74 to about 0.08. Each step uses the "
                   "gradients of the backward pass, computed from the output back to the input."),
            ),
            Step(
                TRAIN_PAGE,
                {"dataset": "xor", "layers": "", "activations": ""},
                N_("One neuron cannot learn exclusive or"),
                N_("This network has no hidden layer: its output is a single neuron, so its boundary is a straight "
                   "line. Press Play for a few hundred epochs: the accuracy wanders around 50% and the loss stays near "
                   "0.69, chance level, because no line separates the exclusive-or quadrants."),
            ),
            Step(
                TRAIN_PAGE,
                {"dataset": "xor", "layers": "4", "activations": "tanh"},
                N_("Four hidden neurons can"),
                N_("Now four tanh neurons sit between the inputs and the output. Press Play: within a few hundred "
                   "epochs the test accuracy passes 90% (about 96% in our runs at 200 epochs). Each neuron map shows "
                   "one straight cut of the plane; the output neuron combines the cuts into the boundary."),
            ),
        ),
    ),
    Lesson(
        id="certified",
        title=N_("Certified defences and detectors"),
        summary=N_("Randomized smoothing proves a radius instead of surviving attacks; a detector flags attacks it "
                   "knows, and that is all it proves (Cohen et al. 2019; Xu et al. 2018)."),
        steps=(
            Step(
                DEFEND_PAGE,
                _defend(tab="smoothing"),
                N_("One image's certificate"),
                N_("The smoothed model votes over 1000 noisy copies of test image 0, a 7: read the votes, the lower "
                   "bound on the 7's probability (about 0.993) and the certified L2 radius (about 0.62). Nothing "
                   "within that radius can change the vote, whatever the attack. Raise n to 10 000: the bound tightens "
                   "and the radius grows to about 0.80."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(tab="smoothing"),
                N_("Certified accuracy, and its ceiling"),
                N_("Press **Certify** for 100 images. About 99% are certified at radius 0 and about 92% at 0.5, but "
                   "none at 0.75: with n = 1000 votes, even a unanimous vote certifies at most about 0.62 (the caption "
                   "gives the exact cap). A certificate is a guarantee, so unlike robust accuracy it is a lower "
                   "bound."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(tab="smoothing", sigma="0.5"),
                N_("More noise, larger radii, lower accuracy"),
                N_("The same at σ = 0.5. Press **Certify** again: about 45% of the images are now certified at radius "
                   "1, where σ = 0.25 certified none, while accuracy at radius 0 falls to about 95%. The base model "
                   "was trained with σ = 0.25 noise, as the page warns, so it abstains more often."),
            ),
            Step(
                DEFEND_PAGE,
                _defend(tab="detector"),
                N_("A detector flags what it knows"),
                N_("Press **Run detector**: feature squeezing flags every successful FGSM, PGD and C&W example at "
                   "ε = 0.1 while flagging about 5% of clean images. Read the warning above the results: these attacks "
                   "do not know about the detector, and attacks that do can evade it. Detection is not robustness."),
            ),
        ),
    ),
)

LESSONS: dict[str, Lesson] = {lesson.id: lesson for lesson in _LESSONS}


def lesson_query(lesson_id: str, step_index: int) -> dict[str, str]:
    """The URL query of one lesson step: the step's page settings plus ``lesson=<id>&step=<k>``.

    Raises:
        LessonNotFound: for an unknown lesson or a step outside it.
    """
    lesson = LESSONS.get(lesson_id)
    if lesson is None:
        raise LessonNotFound(_("There is no lesson {lesson!r}.").format(lesson=lesson_id))
    if not 0 <= step_index < len(lesson.steps):
        raise LessonNotFound(_("The lesson {title!r} has steps 0 to {last}, not {step}.").format(
            title=_(lesson.title), last=len(lesson.steps) - 1, step=step_index))
    return dict(lesson.steps[step_index].query) | {LESSON_PARAM: lesson_id, STEP_PARAM: str(step_index)}


def locate(lesson_id: str, step_text: str) -> tuple[Lesson, int]:
    """The lesson and step index named by the URL values ``lesson`` and ``step`` (a whole number from 0).

    Raises:
        LessonNotFound: with a message for the user when either value names nothing.
    """
    lesson = LESSONS.get(lesson_id.strip())
    if lesson is None:
        known = ", ".join(f"`{known_id}`" for known_id in LESSONS)  # ids, as a link writes them
        raise LessonNotFound(_("Ignored lesson={value!r}: there is no such lesson (known: {known}).").format(
            value=lesson_id[:40], known=known))
    try:
        index = int(step_text.strip())
    except ValueError:
        index = -1
    if not 0 <= index < len(lesson.steps):
        raise LessonNotFound(_("Ignored step={value!r}: the lesson {title!r} has steps 0 to {last}.").format(
            value=step_text[:40], title=_(lesson.title), last=len(lesson.steps) - 1))
    return lesson, index
