"""Each panel's "What does this mean?": two sentences a first-year student understands, then the formula.

Declared here once per panel, so the words have one home (and a translation one place to look). The panels keep
their own precise text; this is the way in for someone meeting the idea for the first time.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from playground.i18n import N_, _

LABEL = N_("What does this mean?")


@dataclass(frozen=True)
class Explanation:
    plain: str  # two sentences, no symbols a newcomer has not met
    formula: str  # the same idea for those who want it, with every symbol defined


EXPLANATIONS = {
    "boundary": Explanation(
        N_("The colours show what the network answers at every point of the plane, paler where it is unsure. Each "
        "training step nudges the weights a little, so that fewer training points sit on the wrong colour."),
        N_("Each step moves every weight w against the slope of the loss: w ← w − η·∂L/∂w, where η is the learning "
        "rate and L the cross-entropy −log p(true class), averaged over a batch of points."),
    ),
    "lens": Explanation(
        N_("Each test point is pushed by an attacker, as far as it may go, in the direction that hurts the network "
        "most. Points that cross the boundary show how close the boundary runs to the data."),
        N_("A point x becomes x′ in the ε-ball ‖x′ − x‖ ≤ ε (L∞: a square, L2: a disc) that most increases the loss "
        "L(f(x′), y) of the true label y; the gradient ∇ₓL shows the direction."),
    ),
    "attack": Explanation(
        N_("The attack adds a change to the picture too faint for you to notice, chosen to push the model towards a "
        "wrong answer. ε is the largest change allowed per pixel: the bigger it is, the easier the model is fooled."),
        N_("FGSM: x′ = clip₀¹(x + ε·sign(∇ₓL(f(x), y))), with f(x) the model's logits, y the true label and L the "
        "cross-entropy. PGD repeats smaller steps and, after each, projects x′ back into ‖x′ − x‖∞ ≤ ε and [0, 1]."),
    ),
    "robustness_curve": Explanation(
        N_("Each point is the share of test images the model still gets right when the attack may change every pixel "
        "by up to ε. It is an upper bound: a stronger attack could only make it lower."),
        N_("robust accuracy(ε) = (1/N)·#{i : f(xᵢ) = yᵢ and f(x′ᵢ) = yᵢ}, with x′ᵢ the attack's output within ε of xᵢ. "
        "An image the model already gets wrong never counts as robust."),
    ),
    "transfer": Explanation(
        N_("Adversarial images made for one network often fool another network trained on the same data, because "
        "both learn similar features. So keeping a model secret does not keep it safe, though transferred "
        "attacks succeed less often than attacks on the model itself."),
        N_("x′ = attack(f_surrogate, x) within ‖x′ − x‖∞ ≤ ε, then the target f is fooled when f(x) = y and "
        "f(x′) ≠ y; the attacker computes gradients of the surrogate only, never of f."),
    ),
    "threat_table": Explanation(
        N_("A defence is only as good as the attack that knows about it. Each column attacks the same defended model "
        "knowing more about the defence, and the figure that counts is the lowest one."),
        N_("BPDA (Athalye et al. 2018) runs a transform t forward and treats it as the identity backward, "
        "∂t(x)/∂x ≈ I. EOT averages the gradient over the defence's randomness r: "
        "∇ₓ E_r[L(f(t_r(x)), y)] ≈ (1/k)·Σⱼ ∇ₓL(f(t_rⱼ(x)), y)."),
    ),
    "adversarial_training": Explanation(
        N_("The model trains on attacked images instead of clean ones, so it learns to answer correctly even after "
        "a small change. It costs some clean accuracy and training time, and it protects only at the ε it trained "
        "for."),
        N_("Madry et al. 2018: min over the weights θ of the average of max_{‖δ‖∞ ≤ ε} L(f_θ(x + δ), y): PGD finds "
        "the worst δ for each training image, and the step lowers the loss there."),
    ),
    "smoothing": Explanation(
        N_("The smoothed model asks the base model about many noisy copies of the image and answers with the most "
        "common vote. When one answer wins clearly, no change smaller than a radius R can flip the vote, and that "
        "radius is proven, not found by trying attacks."),
        N_("g(x) = the class c that f predicts most often on x + ε, ε ~ N(0, σ²I). CERTIFY bounds that class's "
        "probability from below by p̲A (a one-sided Clopper–Pearson bound, wrong with probability at most α) and "
        "certifies the L2 radius R = σ·Φ⁻¹(p̲A), Φ⁻¹ being the standard normal quantile; it abstains when "
        "p̲A < ½ (Cohen et al. 2019)."),
    ),
    "certified_accuracy": Explanation(
        N_("Each point is the share of test images that the smoothed model gets right with a proven radius of at "
        "least r. It is a guarantee, not an attack's result: no change of L2 size below r can lower it."),
        N_("certified accuracy(r) = (1/N)·#{i : CERTIFY returns yᵢ with R ≥ r}; an abstention counts as wrong. Each "
        "certificate holds with probability at least 1 − α."),
    ),
    "detector": Explanation(
        N_("The detector squeezes the image (fewer grey levels, a filter that smooths out specks) and flags it when "
        "the model changes its mind, as it often does on an adversarial image and rarely on a clean one. An "
        "attacker who knows the detector can aim for images that do not move, so a high detection rate is not safety."),
        N_("score(x) = max over the squeezers s of ‖softmax(f(x)) − softmax(f(s(x)))‖₁; x is flagged when the score "
        "exceeds the threshold that flags a set share of clean held-out images (Xu et al. 2018)."),
    ),
}


def explain(panel: str, *, more: str = "") -> None:
    """The panel's expander: its two plain sentences, its formula, and ``more`` (e.g. a list) if given."""
    words = EXPLANATIONS[panel]
    expander = st.expander(_(LABEL), icon=":material/school:", key=f"plain_words_{panel}", on_change="rerun")
    if not expander.open:  # written only while open, so that a closed one costs a rerun nothing to re-render
        return
    with expander:
        st.markdown(_(words.plain))
        st.markdown(_("**The formula.** {formula}").format(formula=_(words.formula)))
        if more:
            st.markdown(more)
