"""Attack: fool an image classifier with FGSM and stronger attacks, one image at a time or across many.

Thin page: widgets -> playground.attacks / playground.evaluation -> playground.plots. The model comes from
app_pages/ui/image_model_picker (bundled, trained here, or uploaded); images from the bundled test sample,
an upload, or the drawing pad.
"""

import dataclasses
import inspect

import numpy as np
import streamlit as st

from app_pages.ui import classroom
from playground.i18n import N_, _

with st.spinner(_("Loading TensorFlow (first visit only)…")):
    from app_pages.ui import export, heavy_work
    from app_pages.ui.attack_transfer import transfer_tab
    from app_pages.ui.draw_canvas import draw_canvas
    from app_pages.ui.image_model_picker import pick_model
    from app_pages.ui.plain_words import explain
    from app_pages.ui.widgets import control, param_control, part_key, save_config, seed_widget, url_config
    from playground import assets, attacks, data, evaluation, image_models, plots, snippets, state, thumbnails
    from playground.attacks.square import square_attack
    from playground.tokens import token

KEY = "atk_"
classroom.apply("attack", state.AttackPageConfig, prefix=KEY)
CHART = export.CHART
TARGETABLE = ("fgsm", "bim", "pgd", "mi_fgsm", "cw_l2")
ROBUSTNESS_EPS = {"inf": (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3), "2": (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)}
THOROUGH = "autoattack"
GALLERY = 10
GALLERY_ROW = 5
ATTACK_SEED = 0
PANEL_ZOOM = 6  # 28 px images drawn at 168 px, shown at the column's width


def sidebar(config: state.AttackPageConfig) -> dict:
    with st.sidebar:
        st.header(_("Classifier"))
        return {name: control(KEY, config, name) for name in ("dataset", "model")}


def choose_image(config: state.AttackPageConfig, x: np.ndarray, y: np.ndarray, class_names) -> dict | None:
    """The image to attack, as {"image": (1, 28, 28, 1), "label": int | None, "index": int}; None if none yet."""
    # One compact row, so that ε and what it does fit on a projector's first screen below it (issue 11).
    row = st.columns([5, 3, 2, 2], vertical_alignment="bottom")  # the sources on one line, in presenter mode too
    sources = {"Test set": _("Test set"), "Upload": _("Upload"), "Draw": _("Draw"), "Camera": _("Camera")}
    source = row[0].segmented_control(
        _("Image"), list(sources), default="Test set", required=True, format_func=sources.get,
        key=part_key(KEY, "image", "source"),
    )
    index_key = seed_widget(KEY + "image", config.image)  # the URL codec allows only indices of the sample
    if source == "Test set":
        if row[2].button(_("Random"), icon=":material/casino:", width="stretch", key=part_key(KEY, "image", "random")):
            st.session_state[index_key] = int(np.random.default_rng().integers(len(x)))
        browse_key = part_key(KEY, "image", "browse")
        # It tracks whether it is open, so that Pick can close it, and draws its ten images only when open.
        with row[3].popover(_("Browse"), icon=":material/grid_view:", width="stretch", key=browse_key,
                            on_change="rerun") as browse:
            if browse.open:
                gallery(x, y, class_names, index_key, browse_key)
        with row[1]:
            index = control(KEY, config, "image", widget=st.number_input)
        return {"image": x[index : index + 1], "label": int(y[index]), "index": int(index)}
    if source == "Upload":
        upload = st.file_uploader(
            _("An image: PNG, JPEG, GIF, BMP, WebP or TIFF; at most {megabytes} MB and {pixels:,} pixels. It is "
              "turned grey, framed like MNIST, and inverted if its background is light.")
            .format(megabytes=data.MAX_UPLOAD_BYTES // 2**20, pixels=data.MAX_PIXELS),
            type=["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"], key=KEY + "upload",
        )
        raw = upload.getvalue() if upload is not None else None
    elif source == "Camera":
        # Small, so that the verdict and ε stay near it.
        photo = st.camera_input(_("Hold up a digit written thickly on paper, close to the camera"), key=KEY + "camera",
                                width=400)
        raw = photo.getvalue() if photo is not None else None
    else:
        raw = draw_canvas(key=KEY + "canvas")
    # Each source keeps its last good image, so a corrupt upload shows an error and loses nothing.
    stored = f"{KEY}own_image_{source}"
    if raw is None:
        st.session_state.pop(stored, None)  # no file, or a cleared pad
    else:
        # A photo is also checked for light and clutter, with advice on what to do.
        read = data.digit_from_photo if source == "Camera" else data.image_from_bytes
        try:
            st.session_state[stored] = read(raw)[None]
        except data.InvalidImageError as error:
            unusable = (_("That photo cannot be used: {error}") if source == "Camera" else
                        _("That file cannot be used: {error}"))
            st.error(unusable.format(error=error), icon=":material/broken_image:")
    image = st.session_state.get(stored)
    if image is None:
        st.info(_("Take a photo to attack it.") if source == "Camera" else _("Upload or draw an image to attack it."))
        return None
    return {"image": image, "label": None, "index": config.image}


def gallery(x: np.ndarray, y: np.ndarray, class_names, index_key: str, browse_key: str) -> None:
    """The ten test images around the current one, each with a Pick button that takes it and closes the gallery."""
    start = st.session_state[index_key] // GALLERY * GALLERY
    for i in range(start, min(start + GALLERY, len(x))):
        if (i - start) % GALLERY_ROW == 0:
            columns = iter(st.columns(GALLERY_ROW))  # a row at a time, so the page reads in index order
        column = next(columns)
        column.image(x[i, :, :, 0], caption=f"#{i} · {class_names[y[i]]}", width="stretch")
        column.button(_("Pick"), key=part_key(KEY, "image", f"pick_{i}"), width="stretch", on_click=_pick,
                      args=(index_key, i, browse_key))


def _pick(index_key: str, index: int, browse_key: str) -> None:
    st.session_state[index_key] = index
    st.session_state[browse_key] = False  # closes the gallery: the picked image is what the student looks at next


def attack_controls(config: state.AttackPageConfig, class_names, has_label: bool) -> dict:
    name = control(KEY, config, "attack")
    spec = attacks.get(name)
    params = {}
    for param in spec.params:
        # The URL's eps and norm belong to the URL's attack; other attacks start from their own defaults.
        from_url = {"eps": config.eps, "norm": config.norm}.get(param.name) if name == config.attack else None
        # Keyed by the setting first, so the URL's eps_hide and norm_hide find every attack's control.
        key = part_key(KEY, param.name, name)
        params[param.name] = param_control(param, key=key, initial=from_url)
        if param.name == "eps":
            st.caption(_("ε = {eps:.3f} on the [0, 1] scale = {grey:.1f} / 255 grey levels.")
                       .format(eps=params["eps"], grey=params["eps"] * 255))
    true_labels = control(KEY, config, "true_labels", disabled=not has_label)
    targeted = False
    target = None
    if name in TARGETABLE:
        targeted = control(KEY, config, "targeted")
        if targeted:
            target = st.selectbox(
                _(state.setting(config, "target").label), range(len(class_names)), format_func=lambda k: class_names[k],
                key=seed_widget(KEY + "target", config.target),
            )
    st.caption(f"{_(spec.summary)} — *{_(spec.reference)}*")
    return {"attack": name, "params": params, "true_labels": true_labels, "targeted": targeted, "target": target}


def attack_one(model, picked: dict, controls: dict, class_names, figures: list) -> None:
    spec = attacks.get(controls["attack"])
    x = picked["image"]
    clean_logits = evaluation.predict(model, x)
    clean_class = int(clean_logits.argmax())
    params = dict(controls["params"])
    if "seed" in inspect.signature(spec.fn).parameters:
        params["seed"] = ATTACK_SEED  # the same settings give the same random start, on every rerun and link
    if controls["targeted"]:
        labels, params["targeted"] = np.array([controls["target"]]), True
    elif controls["true_labels"] and picked["label"] is not None:
        labels = np.array([picked["label"]])
    else:
        labels = None
    try:
        if spec.name == "square":  # gradient-free: what it spends is queries, shown against its budget
            outcome = square_attack(model, x, labels, **params)
            x_adv, queries = outcome.images, int(outcome.queries[0])
        else:
            x_adv, queries = spec(model, x, labels, **params), None
    except ValueError as error:
        st.error(_("These settings do not work together: {error}").format(error=error))
        return
    adv_logits = evaluation.predict(model, x_adv)
    adv_class = int(adv_logits.argmax())
    gradient = evaluation.input_gradient(model, x, labels if not controls["targeted"] else None)
    stats = evaluation.perturbation_stats(x, x_adv)
    # Only a changed prediction fools the model: a target equal to the clean class is no success.
    success = adv_class != clean_class and (not controls["targeted"] or adv_class == controls["target"])

    verdict = _(":red[Fooled]: {clean} → {adversarial}") if success else _(
        ":green[Not fooled]: {clean} → {adversarial}")
    st.markdown("### " + verdict.format(clean=class_names[clean_class], adversarial=class_names[adv_class]))
    legend = attack_panels(x[0, :, :, 0], x_adv[0, :, :, 0], gradient[0, :, :, 0])
    before, after = evaluation.softmax(clean_logits)[0], evaluation.softmax(adv_logits)[0]
    with st.container(key=KEY + "bars"):
        st.html(plots.probability_bars_html(before, after, class_names))
    st.caption(legend)
    explain("attack")
    # The export's interactive figure, built only on download; its button is translated, the file keeps English.
    figures.append((N_("Class probabilities"), lambda: plots.probability_bars(before, after, class_names, title=None)))
    sizes = st.columns(3)
    sizes[0].metric("L∞ ‖δ‖", f"{stats.linf:.3f}", help=f"{stats.linf * 255:.1f} / 255")
    sizes[1].metric("L2 ‖δ‖", f"{stats.l2:.3f}")
    sizes[2].metric(_("mean |δ|"), f"{stats.mean_abs:.4f}")
    if queries is not None:
        if success:
            spent = _("Square read only the model's scores: {queries:,} of its {budget:,} queries, stopping at the "
                      "first one that fooled the model.")
        elif queries:
            spent = _("Square read only the model's scores: {queries:,} of its {budget:,} queries, without fooling "
                      "it.")
        else:
            spent = _("Square read only the model's scores: {queries:,} of its {budget:,} queries: none, as the "
                      "model already gets the image wrong.")
        st.caption(spent.format(queries=queries, budget=params["queries"]))
    if controls["attack"] in ("pgd", "bim"):
        with st.expander(_("PGD step by step"), icon=":material/timeline:", expanded=False):
            pgd_scrubber(model, x, labels, params, controls, class_names)
    # Stateful expanders report whether they are open, so the sweep is only computed when someone looks.
    linearity = st.expander(
        _("Why so easy? The linearity view (Goodfellow et al. 2015, Fig. 4)"), icon=":material/show_chart:",
        key=KEY + "linearity_open", on_change="rerun",
    )
    if not linearity.open:
        return
    with linearity:
        eps_values = np.linspace(-0.5, 0.5, 41)
        st.plotly_chart(
            plots.linearity_figure(eps_values, evaluation.linearity_sweep(model, x, eps_values), class_names),
            key=KEY + "linearity", **CHART,
        )
        st.caption(_(
            "Each logit along x + ε·sign(∇x loss), without clipping. Near-straight lines mean the network "
            "behaves almost linearly here, so many tiny aligned changes add up to a large change in the logits."
        ))


def attack_panels(original: np.ndarray, adversarial: np.ndarray, gradient: np.ndarray) -> str:
    """x, the signed perturbation, |δ|, x' and the saliency, side by side as crisp enlarged pixels; returns their
    legend, for a caption below the bars (one word under each panel keeps the bars on the first screen)."""
    delta = adversarial - original
    bound = float(np.abs(delta).max())
    panels = [
        (thumbnails.gray_rgb(original), _("original")),
        (thumbnails.diverging_rgb(delta), "δ"),
        (thumbnails.gray_rgb(np.abs(delta) / (bound or 1.0)), "|δ|"),
        (thumbnails.gray_rgb(adversarial), _("adversarial")),
        (thumbnails.heat_rgb(np.abs(gradient)), _("saliency")),
    ]
    with st.container(key=KEY + "panels"):
        for column, (rgb, caption) in zip(st.columns(len(panels)), panels, strict=True):
            # Inline data URLs: a moved slider's new images arrive with the rerun, with no media round trip.
            column.image(thumbnails.png_data_url(thumbnails.enlarge(rgb, PANEL_ZOOM)), caption=caption, width="stretch")
    return _("δ: orange −, blue +, full colour at ±{bound:.3f} · |δ| scaled to its max · saliency |∇x loss|").format(
        bound=bound)


def pgd_scrubber(model, x, labels, params, controls, class_names) -> None:
    arguments = {k: v for k, v in params.items() if k not in ("restarts",)}
    if controls["attack"] == "bim":
        arguments["random_start"] = False
    trajectory = attacks.pgd_trajectory(model, x, labels, **arguments)
    steps = len(trajectory.loss) - 1
    step = st.slider(_("Iteration"), 0, steps, steps, key=KEY + "scrub")
    st.plotly_chart(
        plots.trajectory_figure(trajectory.loss[:, 0], trajectory.top_confidence[:, 0], step=step),
        key=KEY + "trajectory", **CHART,
    )
    st.image(trajectory.images[step, 0, :, :, 0], width=140,
             caption=_("step {step}: {prediction}").format(
                 step=step, prediction=class_names[int(trajectory.top_class[step, 0])]))


def robustness(model, dataset: str, x: np.ndarray, y: np.ndarray, class_names) -> None:
    st.markdown(_("How robust accuracy collapses as ε grows, across many test images. An image counts as robust "
                  "only if the model gets it right and still does under the attack. Every figure is an **upper "
                  "bound**: a stronger attack can only lower it."))
    explain("robustness_curve")
    if st.toggle(
        _("Use the full {dataset} test set (10 000 images)").format(dataset=_(data.DATASET_LABELS[dataset])),
        key=KEY + "rb_full",
        help=_("Needs the dataset files: PLAYGROUND_DATA_DIR, or a one-time Keras download. Otherwise the "
               "bundled 1000-image sample is used."),
    ):
        try:
            images = data.load_images(dataset)
        except data.DataUnavailableError as error:
            st.error(str(error), icon=":material/cloud_off:")
        else:
            x, y = images.x_test, images.y_test
    columns = st.columns([2, 1, 1])
    quick = [name for name in attacks.names() if name != THOROUGH]
    chosen = columns[0].multiselect(_("Attacks"), quick, default=["fgsm", "pgd"], key=KEY + "rb_attacks",
                                    format_func=lambda n: _(attacks.get(n).label))
    n = columns[1].number_input(_("Images (max {n})").format(n=len(x)), 10, len(x), min(1000, len(x)), step=100,
                                key=KEY + "rb_n")
    strengths = {"Quick": _("Quick"), "Thorough": _("Thorough")}
    strength = columns[2].segmented_control(
        _("Evaluation"), list(strengths), default="Quick", required=True, key=KEY + "rb_strength",
        format_func=strengths.get,
        help=_("Quick: the attacks you picked. Thorough: adds AutoAttack (APGD-CE, APGD-T and the gradient-free "
               "Square attack; Croce & Hein 2020), the standard strong evaluation; it takes minutes per 1000 images."),
    )
    runs = chosen + ([THOROUGH] if strength == "Thorough" else [])
    norms = {name: attacks.get(name).budget_norm() for name in runs}
    budgets = {}
    budget_columns = st.columns(2)
    for column, norm in zip(budget_columns, attacks.base.NORM_LABELS, strict=True):
        if norm in norms.values():
            label = attacks.base.NORM_LABELS[norm]
            budgets[norm] = sorted(column.multiselect(
                _("{norm} budgets ε").format(norm=label), ROBUSTNESS_EPS[norm], default=list(ROBUSTNESS_EPS[norm]),
                key=f"{KEY}rb_eps_{norm}",
                help=_("For the attacks that measure their perturbation in {norm}.").format(norm=label),
            ))
    clicked = st.button(_("Run"), icon=":material/play_arrow:", type="primary",
                        disabled=not (runs and any(budgets.values())))
    if clicked:  # a new run: its own results, and its own task
        st.session_state[KEY + "curves"] = (token(model), dataset, {})
        st.session_state[KEY + "rb_runs"] = st.session_state.get(KEY + "rb_runs", 0) + 1

    def work(progress, results: dict) -> None:
        """Fills ``results`` one attack at a time, so Stop keeps the curves already finished."""
        for position, name in enumerate(runs):
            if budgets.get(norms[name]):
                results[name] = evaluation.robustness_curve(
                    model, x[:n], y[:n], name, budgets[norms[name]], norm=norms[name], seed=ATTACK_SEED,
                    progress=lambda f, text, p=position: progress((p + f) / len(runs), text),
                )

    results = st.session_state.get(KEY + "curves", (None, None, {}))[2]
    job = heavy_work.task(KEY + "rb_job", (token(model), dataset, st.session_state.get(KEY + "rb_runs", 0)),
                          lambda progress: work(progress, results), start=clicked, restart=clicked)
    heavy_work.outcome(job, failed=_("The evaluation failed"),
                       stopped=_("Stopped: below are the curves that finished before Stop."))
    if job is not None and job.state in ("queued", "running"):
        return  # the curves appear once it is done
    owner_model, owner_dataset, curves = st.session_state.get(KEY + "curves", (None, None, {}))
    if not curves or owner_model != token(model) or owner_dataset != dataset:
        return  # nothing run yet, or results that belong to another model
    for norm, label in attacks.base.NORM_LABELS.items():
        of_norm = {k: c for k, c in curves.items() if c.norm == norm}
        if not of_norm:
            continue
        st.plotly_chart(
            plots.robustness_figure([(_(attacks.get(k).label), c.eps, c.accuracy, [r.interval for r in c.robust])
                                     for k, c in of_norm.items()],
                                    eps_title=_("ε ({norm}, [0, 1] pixel scale)").format(norm=label)),
            key=f"{KEY}rb_curve_{norm}", **CHART,
        )
        st.dataframe(
            {_("attack"): [_(attacks.get(k).label) for k in of_norm]}
            | {f"{label} ε={e:g}": [c.robust[c.eps.index(e)].short() if e in c.eps else "" for c in of_norm.values()]
               for e in sorted({e for c in of_norm.values() for e in c.eps})},
            hide_index=True,
        )
    n_images = next(iter(curves.values())).n_images
    st.caption(_("Robust accuracy: {scoring}. In brackets, its 95% Wilson interval over the {n} images.")
               .format(scoring=_(evaluation.SCORING), n=n_images))
    for gap in evaluation.thorough_gaps(curves, THOROUGH):
        st.warning(gap, icon=":material/lock_open:")
    zero = evaluation.zero_gradient_fraction(model, x[:200])
    sanity = (_("Sanity checks: {zero:.1%} of the first 200 images have an all-zero input gradient; the model "
                "ends in a softmax.") if image_models.has_softmax_output(model) else
              _("Sanity checks: {zero:.1%} of the first 200 images have an all-zero input gradient; the model "
                "outputs logits."))
    st.caption(sanity.format(zero=zero))
    for flag in evaluation.sanity_flags(model, x[:200], list(curves.values())):
        (st.error if flag.level == "error" else st.warning)(flag.message, icon=":material/flag:")
    finished = [name for name, c in curves.items() if c.eps]
    if not finished:
        return
    name = st.selectbox(_("Inspect"), finished, format_func=lambda k: _(attacks.get(k).label), key=KEY + "rb_pick")
    curve = curves[name]
    eps = st.select_slider(_("at {norm} ε").format(norm=attacks.base.NORM_LABELS[curve.norm]), curve.eps,
                           value=curve.eps[-1], key=KEY + "rb_at")
    clean = evaluation.predict(model, x[: len(curve.adversarial_predictions[eps])]).argmax(-1)
    adversarial = curve.adversarial_predictions[eps]
    left, right = st.columns(2)
    left.plotly_chart(plots.confusion_figure(evaluation.confusion(clean, adversarial, len(class_names)), class_names),
                      key=KEY + "rb_confusion", **CHART)
    with right:
        indices, images = curve.flipped_examples[eps]
        st.markdown(_("**{flipped} of {n} predictions flipped** at ε = {eps:g}.").format(
            flipped=int((clean != adversarial).sum()), n=len(clean), eps=eps))
        if len(indices):
            captions = [f"#{i}: {class_names[clean[i]]} → {class_names[adversarial[i]]}" for i in indices]
            st.image(list(images[:, :, :, 0]), caption=captions, width=96)


@st.fragment
def attack_section(config: state.AttackPageConfig, model, picked: dict | None, class_names) -> None:
    """The attack's controls and results. A fragment: moving ε reruns only this, not the sidebar and gallery.

    The controls sit left of the verdict, the images and the bars, so that ε and what it does share the first
    screen, on a 1280×720 projector too.
    """
    controls_column, results_column = st.columns([1, 2], gap="medium")
    with controls_column:
        controls = attack_controls(config, class_names, picked is not None and picked["label"] is not None)
    values = {"attack": controls["attack"], "true_labels": controls["true_labels"],
              "targeted": controls["targeted"],
              "target": config.target if controls["target"] is None else controls["target"]}  # kept while untargeted
    values |= {k: v for k, v in controls["params"].items() if k in ("eps", "norm")}
    config = dataclasses.replace(config, **values)
    save_config(KEY, config)
    if picked is not None:
        figures = []
        with results_column:
            attack_one(model, picked, controls, class_names, figures)
        from_test_set = picked["label"] is not None
        bundled = st.session_state.get("model_source", "Bundled") == "Bundled"  # app_pages/ui/image_model_picker
        export.export_panel(
            KEY + "export_", config=config, figures=figures, snippet_file=f"attack_{controls['attack']}.py",
            snippet=snippets.attack_snippet(config, controls["params"],
                                            model_file=None if bundled else "playground_model.keras")
            if from_test_set else None,
            note=None if from_test_set else _("The script needs a test-set image: uploads and drawings stay here."),
        )


def main() -> None:
    st.title(_("Attack"))
    st.caption(_("Fool an image classifier. Pick a model and an image, then move ε and watch the prediction flip."))
    config = url_config(KEY, state.AttackPageConfig)
    values = sidebar(config)
    chosen = pick_model(values["dataset"], values["model"])
    if chosen is None:
        st.info(_("Train or upload a model in the sidebar to start."))
        return
    x, y, class_names = assets.load_sample(values["dataset"])
    class_names = tuple(_(name) for name in class_names)  # shown only: Fashion-MNIST's words, in the reader's language
    one, many, transfer = st.tabs([_("One image"), _("Many images"), _("Transfer")])
    with one:
        picked = choose_image(config, x, y, class_names)
        if picked is not None:
            values["image"] = picked["index"]
        attack_section(dataclasses.replace(config, **values), chosen.model, picked, class_names)
    with many:
        robustness(chosen.model, values["dataset"], x, y, class_names)
    with transfer:
        transfer_tab(chosen.model, values["dataset"], x, y)


main()
