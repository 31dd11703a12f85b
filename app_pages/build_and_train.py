"""Build & Train: design a small network and watch it learn a 2-D toy problem, live.

The page is thin: widgets -> a TrainPageConfig (mirrored in the URL) -> a ToyExperiment, played by a
``live.LiveTraining`` kept in session state -> figures. Training runs in the process-wide scheduler, never in
a script run. The live view (numbers, curves, neuron maps, boundary and Play/Pause) talks to it over HTTP
(``live_stream``): it fetches what is new while playing, and Play and Pause go straight to it. So a playing page
reruns no script, unless a neuron is inspected large (its map is redrawn on a timer).

Everything that Play, Pause, Step, Reset and the speed change sits in one fragment (``training_panel``), so
those clicks rerun only it and the export below: with five students training, a run of the whole page took
1-6 s (measured in the closing notes of issue 8), and Pause must act within a fraction of that.
"""

import dataclasses
import random

import numpy as np
import streamlit as st

from app_pages.ui import classroom
from playground.i18n import N_, _, ngettext

with st.spinner(_("Loading TensorFlow (first visit only)…")):
    from app_pages.ui import export, live_stream
    from app_pages.ui.attack_lens import lens_section
    from app_pages.ui.live_view import live_view
    from app_pages.ui.plain_words import explain
    from app_pages.ui.widgets import control, part_key, save_config, seed_widget, url_config
    from playground import data, experiment, features, live, plots, snippets, state, training
    from playground.data import custom

KEY = "bt_"  # prefix of this page's session-state keys
classroom.apply("build_and_train", state.TrainPageConfig, prefix=KEY)
LEARNING_RATES = (1e-5, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 1e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BINARY_COLOURS = ["#f59322", "#0877bd"]
MULTI_COLOURS = ["#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd"]
# What a student clicking sees: MULTI_COLOURS, in words (translated where shown).
COLOUR_NAMES = [N_("orange"), N_("blue"), N_("green"), N_("red"), N_("purple")]
POINTS_ERROR = KEY + "points_error"  # a refused upload or click, on screen until the next edit
# How often a playing page reruns to redraw an inspected neuron's large map; the live view streams everything
# else, the curves included, and asks for a rerun when a notice is due. Each run costs the browser about 100 ms
# of its main thread, and a busy tab answers clicks late (live_stream's docstring).
REFRESH_SECONDS = 2.0
PANEL_KEY, EXPORT_KEY = KEY + "panel", KEY + "export"  # fragments that a panel click reruns
REGRESSION_WORDS = N_(
    "**Regression.** Here each point carries a number, and the colour is the network's prediction for it: orange "
    "below 0, white at 0, blue above, deepest at −1 and 1. Training makes the colour under each point match the "
    "point's own; the loss is the squared error (ŷ − y)², or Huber's, which counts large errors less."
)
CHART = export.CHART


def options_with(options: tuple[float, ...], value: float) -> list[float]:
    """A select-slider's options, including a value that came from the URL and is not a preset."""
    return sorted(set(options) | {value})


def data_controls(config: state.TrainPageConfig) -> dict:
    st.header(_("Data"))
    problem = control(KEY, config, "problem", widget=st.segmented_control, required=True, on_change=switch_problem)
    dataset = control(KEY, config, "dataset", options=[*data.datasets_for(problem), custom.NAME])
    blobs, samples, noise = config.blobs, config.samples, config.noise
    own = {}
    if dataset == custom.NAME:
        points = config.points
        if config.dataset != custom.NAME and not points:  # just switched: start from the dataset shown
            points = generated_points(config)
        own = points_editor(dataclasses.replace(config, points=points))
    else:
        if data.DATASETS[dataset].multiclass:
            blobs = control(KEY, config, "blobs")
        samples = control(KEY, config, "samples", step=50)
        noise = control(KEY, config, "noise", step=5)
    train_percent = control(KEY, config, "train_percent", step=10)
    # Your own points are not drawn: their data seed only sets which of them are test points.
    if dataset != custom.NAME and st.button(_("Regenerate"), icon=":material/refresh:",
                                            help=_("Draw a new sample (new data seed)"),
                                            key=part_key(KEY, "data_seed", "regenerate")):
        st.session_state[KEY + "data_seed"] = random.randint(*state.bounds(config, "data_seed"))
    data_seed = control(KEY, config, "data_seed", widget=st.number_input)
    return own | dict(
        problem=problem,
        dataset=dataset,
        blobs=blobs,
        samples=samples,
        noise=noise,
        train_percent=train_percent,
        data_seed=int(data_seed),
    )


def switch_problem() -> None:
    """A new problem type starts on its first dataset and its usual loss (the others' do not fit it)."""
    problem = st.session_state[KEY + "problem"]
    st.session_state[KEY + "dataset"] = data.datasets_for(problem)[0]
    st.session_state[KEY + "loss"] = training.DEFAULT_LOSSES[problem]
    st.session_state.pop(POINTS_ERROR, None)


def generated_points(config: state.TrainPageConfig) -> custom.Points:
    """The points of ``config``'s generated dataset (train and test), as your own points to edit."""
    split = experiment.make_split(config)
    # Noise may carry a generated point off the plane; yours stay on it.
    xy = np.clip(np.concatenate([split.x_train, split.x_test]).astype(float), -data.EXTENT, data.EXTENT)
    labels = np.concatenate([split.y_train, split.y_test])
    label = float if split.regression else int
    return tuple(custom.point(x1, x2, label(y), regression=split.regression)
                 for (x1, x2), y in zip(xy, labels, strict=True))


def points_editor(config: state.TrainPageConfig) -> dict:
    """Your own points: the class a click adds, Clear, a start from a generated dataset, and CSV in and out.
    Clicks on the plane reach ``edit_points``; the CSV upload, ``upload_points``."""
    if config.regression:
        chosen = {"point_value": control(KEY, config, "point_value", step=0.1, format="%.1f")}
        st.caption(_("Click on the plane to add a point with this value (orange −1, white 0, blue 1); click on a "
                     "point to remove it."))
    else:
        chosen = {"point_class": control(KEY, config, "point_class", widget=st.segmented_control, required=True,
                                         options=list(range(custom.MAX_LABEL + 1)),
                                         format_func=lambda k: f"{k} · {_(COLOUR_NAMES[k])}")}
        st.caption(_("Click on the plane to add a point of this class; click on a point to remove it."))
    start, clear = st.columns([3, 2], vertical_alignment="bottom")
    origins = data.datasets_for(config.problem)
    origin = start.selectbox(_("Start from"), origins, format_func=lambda k: _(data.DATASETS[k].label),
                             key=KEY + "points_origin")
    if start.button(_("Use its points"), key=KEY + "points_start", icon=":material/scatter_plot:"):
        config = dataclasses.replace(config, points=generated_points(dataclasses.replace(config, dataset=origin)))
        st.session_state.pop(POINTS_ERROR, None)
    if clear.button(_("Clear"), key=KEY + "points_clear", icon=":material/delete_sweep:"):
        config = dataclasses.replace(config, points=())
        st.session_state.pop(POINTS_ERROR, None)
    columns = "`x1,x2,target`" if config.regression else "`x1,x2,label`"  # a CSV header: code, in any language
    st.file_uploader(_("Upload a CSV of {columns} (at most {limit:,} rows)").format(columns=columns,
                                                                                  limit=custom.MAX_POINTS),
                     type=["csv"],
                     key=KEY + "points_csv", on_change=upload_points)
    if error := st.session_state.get(POINTS_ERROR):
        st.error(error, icon=":material/error:")
    n = len(config.points)
    if n <= custom.MAX_URL_POINTS:
        shared = ngettext("{count:,} point; the link holds them.", "{count:,} points; the link holds them.", n)
    else:
        shared = ngettext("{count:,} point; too many for a link (at most {limit}): share the CSV instead.",
                          "{count:,} points; too many for a link (at most {limit}): share the CSV instead.", n)
    st.caption(shared.format(count=n, limit=custom.MAX_URL_POINTS))
    if not n:  # here, not above the plane: the plane stays where it was, to be clicked on
        st.info(_("Add points to train on: click on the plane, or use a dataset's points."),
                icon=":material/touch_app:")
    st.download_button(_("Points (.csv)"), custom.to_csv(config.points, regression=config.regression),
                       file_name="points.csv", mime="text/csv", key=KEY + "points_download",
                       icon=":material/download:", on_click="ignore", disabled=not n)
    return {"points": config.points} | chosen


def edit_points() -> None:
    """A click on the plane (the live view's ``edit`` trigger): removes the point under it, or adds one there."""
    click = st.session_state[KEY + "boundary"].get("edit")
    config = st.session_state[KEY + "config"]
    if not click or config.dataset != custom.NAME:
        return
    try:
        points = custom.remove_near(config.points, click["x1"], click["x2"], click["radius"])
        if points == config.points:
            label = config.point_value if config.regression else config.point_class
            points = custom.add(points, (click["x1"], click["x2"], label), regression=config.regression)
    except ValueError as error:
        st.session_state[POINTS_ERROR] = str(error)
    else:
        st.session_state.pop(POINTS_ERROR, None)
        save_config(KEY, dataclasses.replace(config, points=points))
    st.rerun()  # the whole page: the sidebar's count and the network's data follow


def upload_points() -> None:
    upload = st.session_state.get(KEY + "points_csv")
    if upload is None:
        return
    config = st.session_state[KEY + "config"]
    try:
        points = custom.parse_csv(upload.getvalue(), regression=config.regression)
    except custom.InvalidPointsError as error:
        st.session_state[POINTS_ERROR] = _("{name} was not used:").format(name=upload.name) + "\n\n" + "\n\n".join(
            f"- {problem}" for problem in str(error).splitlines())
    else:
        st.session_state.pop(POINTS_ERROR, None)
        save_config(KEY, dataclasses.replace(config, points=points))


def training_controls(config: state.TrainPageConfig, problem: str) -> dict:
    """``problem``: the type chosen in this run, which decides the losses on offer."""
    st.header(_("Training"))
    loss = control(KEY, config, "loss", options=training.losses_for(problem))
    optimizer = control(KEY, config, "optimizer")
    # Presets, as TensorFlow Playground offers; a URL value that is not one is added to them.
    lr = control(KEY, config, "lr", widget=st.select_slider, options=options_with(LEARNING_RATES, config.lr),
                 format_func=lambda v: f"{v:g}")
    batch = control(KEY, config, "batch")
    reg = control(KEY, config, "reg")
    reg_rate = control(KEY, config, "reg_rate", widget=st.select_slider,
                       options=options_with(REGULARIZATION_RATES, config.reg_rate), format_func=lambda v: f"{v:g}",
                       disabled=reg == "none")
    adv_train = control(KEY, config, "adv_train")
    adv_eps = control(KEY, config, "adv_eps", step=0.05, format="%.2f", disabled=not adv_train)
    return dict(loss=loss, optimizer=optimizer, lr=lr, batch=batch, reg=reg, reg_rate=reg_rate, adv_train=adv_train,
                adv_eps=float(adv_eps))


def feature_controls(config: state.TrainPageConfig) -> dict:
    st.header(_(state.setting(config, "features").label))
    chosen = tuple(
        name
        for name, feature in features.FEATURES.items()
        if st.toggle(feature.label, key=seed_widget(part_key(KEY, "features", name), name in config.features))
    )
    if not chosen:
        st.warning(_("Pick at least one input; using x₁, x₂."))
        chosen = ("x1", "x2")
    return dict(features=chosen)


def network_controls(config: state.TrainPageConfig) -> dict:
    """In the sidebar, so the boundary they shape is on the first screen beside them (a projector's too)."""
    st.header(_("Network"))
    layers_codec = state.setting(config, "layers").codec
    depth = st.number_input(_(state.setting(config, "layers").label), layers_codec.min_len, layers_codec.max_len,
                            key=seed_widget(part_key(KEY, "layers", "depth"), len(config.layers)))
    activation = state.setting(config, "activations")
    layers, activations = [], []
    for index in range(int(depth)):
        present = index < len(config.layers)
        neurons_column, activation_column = st.columns(2)
        with neurons_column:
            neurons = st.number_input(
                _("Layer {layer} neurons").format(layer=index + 1), layers_codec.item.low, layers_codec.item.high,
                key=seed_widget(part_key(KEY, "layers", f"neurons_{index}"), config.layers[index] if present else 4),
            )
            layers.append(int(neurons))
        with activation_column:
            activations.append(
                st.selectbox(
                    _("Layer {layer} activation").format(layer=index + 1),
                    list(activation.codec.item.options),
                    format_func=activation.codec.item.label,
                    key=seed_widget(part_key(KEY, "activations", index),
                                    config.activations[index] if present else "tanh"),
                )
            )
    init_seed = control(KEY, config, "init_seed", widget=st.number_input)
    return dict(layers=tuple(layers), activations=tuple(activations), init_seed=int(init_seed))


def current_live(config: state.TrainPageConfig) -> live.LiveTraining:
    """The session's live trainer with ``config`` applied; a new structure starts a new network (and keeps playing)."""
    current = st.session_state.get(KEY + "live")
    if current is None:
        with st.spinner(_("Building the network…")):
            current = live.LiveTraining(experiment.ToyExperiment.create(config))
    else:
        previous = current.experiment.config
        with current.lock:
            updated = current.experiment.updated(config)
        if updated is not current.experiment:
            was_running = current.running
            current.pause()
            current = live.LiveTraining(updated)
            if was_running:
                current.play()
        elif config != previous and not current.running:
            current.refresh()  # e.g. a new loss re-measured the metrics
    st.session_state[KEY + "live"] = current
    return current


def speed_control(config: state.TrainPageConfig) -> str:
    return control(
        KEY, config, "speed", widget=st.segmented_control, format_func=lambda k: _(experiment.SPEEDS[k][0]),
        required=True, on_change=redraw, kwargs={"network_changed": False},  # the export's settings carry the speed
        label_visibility="collapsed",  # one row less above the boundary; the options say "epochs per second"
    )


def transport_pressed() -> None:
    """After the live view's Play or Pause, which it sent straight to the trainer, or when it saw training stop
    by itself (divergence, an error) or start going nowhere: the page follows, with its notices."""
    redraw(network_changed=not st.session_state[KEY + "live"].running)


def step_one_epoch() -> None:
    trainer = st.session_state[KEY + "live"]
    trainer.experiment.trainer.run_epochs(1)
    trainer.refresh()
    redraw(network_changed=True)


def reset_network() -> None:
    trainer = st.session_state[KEY + "live"]
    trainer.pause()
    trainer.experiment.reset()
    trainer.refresh()
    redraw(network_changed=True)


def redraw(*, network_changed: bool) -> None:
    """From a panel click's callback: reruns the panel and the export, or the whole page when the lens is shown
    and must follow the paused network."""
    if network_changed and st.session_state[KEY + "config"].lens:
        st.rerun()
    st.rerun([PANEL_KEY, EXPORT_KEY])


def transport_controls(trainer: live.LiveTraining) -> None:
    """Step and Reset; Play and Pause sit in the live view, which sends them straight to the trainer."""
    running = trainer.running
    step, reset = st.columns(2)
    step.button(_("Step"), icon=":material/skip_next:", width="stretch", help=_("Train one epoch"),
                disabled=running or not trainer.experiment.trainable,
                key=KEY + "step", on_click=step_one_epoch)
    reset.button(_("Reset"), icon=":material/restart_alt:", width="stretch", key=KEY + "reset", on_click=reset_network,
                 help=_("Start again from the same initial weights"))


def class_colors(exp: experiment.ToyExperiment) -> list[str]:
    """One colour per class; a regression's two ends of its diverging scale, -1 and 1."""
    return BINARY_COLOURS if exp.split.n_classes <= 2 else MULTI_COLOURS[: exp.split.n_classes]


def training_notices(trainer: live.LiveTraining) -> None:
    """Why training stopped or is going nowhere; each stays on screen until the user acts."""
    if trainer.experiment.trainer.diverged:
        st.error(trainer.experiment.trainer.diverged, icon=":material/warning:")
    elif trainer.experiment.trainer.stalled:
        st.warning(trainer.experiment.trainer.stalled, icon=":material/trending_up:")
    if trainer.error is not None:
        st.error(_("Training stopped: {error}").format(error=trainer.error), icon=":material/error:")
    if trainer.paused_unwatched and not trainer.running:
        st.info(_("Paused: this tab went unseen for {seconds:.0f} s. Press Play to go on.")
                .format(seconds=live.UNWATCHED_SECONDS), icon=":material/visibility_off:")


def live_section(config: state.TrainPageConfig) -> None:
    """What moves while training: the numbers, the neuron maps and the boundary, streamed while playing."""
    trainer = st.session_state[KEY + "live"]
    exp = trainer.experiment
    playing = trainer.running
    live_view(
        trainer.latest_frame if playing else trainer.drain()[-1],  # paused: where it stopped, at once
        history=exp.trainer.history,
        neuron_images=trainer.neuron_images,
        live=live_stream.live_url(trainer),
        playing=playing,
        can_play=exp.trainer.diverged is None and exp.trainable,
        stalled=exp.trainer.stalled is not None,
        on_transport=transport_pressed,
        on_edit=edit_points if config.dataset == custom.NAME else None,
        x_train=exp.split.x_train,
        y_train=exp.split.y_train,
        x_test=exp.split.x_test,
        y_test=exp.split.y_test,
        extent=data.EXTENT,
        class_colors=class_colors(exp),
        discretize=config.discretize,
        regression=exp.split.regression,
        show_test=config.show_test or config.dataset == custom.NAME,  # every point you placed stays in sight
        key=KEY + "boundary",
    )


def neuron_view() -> None:
    """The neuron inspector: one hidden neuron's map, large."""
    inspector, _right = st.columns([1, 1], gap="medium")
    with inspector:
        inspect_neuron(st.session_state[KEY + "live"].neuron_maps)


def inspect_neuron(maps: list[np.ndarray]) -> None:
    choices = [(layer, neuron) for layer, m in enumerate(maps) for neuron in range(len(m))]
    if not choices:
        st.caption(_(
            "No hidden layers: this is a linear model (softmax regression), so there are no neurons to "
            "inspect. Its boundary is a straight line in the chosen features."
        ))
        return
    picked = st.selectbox(
        _("Inspect a neuron"),
        choices,
        index=None,
        placeholder=_("Pick a neuron to see its map large"),
        format_func=lambda c: _("Layer {layer} · neuron {neuron}").format(layer=c[0] + 1, neuron=c[1] + 1),
        key=KEY + "inspect",
        on_change=redraw, kwargs={"network_changed": False},  # the panel starts or stops the map's timer
    )
    if picked is None:
        return  # nothing large to redraw on every frame
    layer, neuron = picked
    st.plotly_chart(
        plots.activation_map(maps[layer][neuron], extent=data.EXTENT,
                             title=_("Layer {layer} · neuron {neuron}").format(layer=layer + 1, neuron=neuron + 1)),
        key=KEY + "neuron",
        **CHART,
    )


def main() -> None:
    st.title(_("Build & Train"))
    intro = st.empty()  # above the URL's notices; worded below, once the problem type chosen in this run is known
    config = url_config(KEY, state.TrainPageConfig)

    with st.sidebar:
        values = data_controls(config) | feature_controls(config) | network_controls(config)
        values |= training_controls(config, values["problem"])
        st.header(_("View"))
        values |= {name: control(KEY, config, name) for name in ("show_test", "discretize", "lens")}

    config = dataclasses.replace(config, **values)
    save_config(KEY, config)
    intro.caption(_("Shape a network, press Play and watch its predicted value take shape. The URL holds every "
                    "setting.") if config.regression else
                  _("Shape a network, press Play and watch the decision boundary form. The URL holds every setting."))

    trainer = current_live(config)
    exp = trainer.experiment
    if exp.trainable and exp.trainer.batch_size < config.batch:
        st.caption(ngettext("Batch size capped at the {count} training point.",
                            "Batch size capped at the {count} training points.", exp.trainer.batch_size)
                   .format(count=exp.trainer.batch_size))
    st.fragment(training_panel, key=PANEL_KEY)()
    if config.lens and not len(exp.split.x_test):
        st.info(_("The attack lens pushes the test points, and there are none yet: add a few more points."),
                icon=":material/center_focus_weak:")
    elif config.lens:
        config = st.session_state[KEY + "config"]  # the panel may have changed the speed since
        with trainer.lock:  # the worker holds it during each slice: the lens waits one slice at most
            config = dataclasses.replace(config, **lens_section(config, exp, class_colors(exp)))
        save_config(KEY, config)
    st.fragment(export_section, key=EXPORT_KEY)()


def training_panel() -> None:
    """Play/Pause, Step, Reset and the speed, with what they drive: the live view and the neuron inspector."""
    trainer = st.session_state[KEY + "live"]
    transport, _gap, speed = st.columns([2.4, 0.2, 3.4], vertical_alignment="bottom")
    with transport:
        transport_controls(trainer)
    config = st.session_state[KEY + "config"]
    with speed:
        chosen = speed_control(config)
    if chosen != config.speed:
        config = dataclasses.replace(config, speed=chosen)
        save_config(KEY, config)
        with trainer.lock:
            trainer.experiment.updated(config)  # a new cap, same network
    training_notices(trainer)
    live_section(config)
    explain("boundary", more=_(REGRESSION_WORDS) if config.regression else "")
    # An inspected neuron's map is refreshed on a timer while playing; otherwise it is drawn once, in the same
    # place. The timed fragment exists only then: a fragment run drops the ones it no longer declares, timers
    # included, and a playing page with no timer reruns no script at all.
    if trainer.running and st.session_state.get(KEY + "inspect") is not None:
        st.fragment(run_every=REFRESH_SECONDS)(playing_neuron_view)()
    else:
        with st.container():
            neuron_view()


def export_section() -> None:
    """Below the lens, so its settings are complete; the panel's clicks rerun it too."""
    trainer = st.session_state[KEY + "live"]
    config, exp = st.session_state[KEY + "config"], trainer.experiment
    if trainer.running:
        st.caption(_("Pause to export this experiment: settings, script, model and charts."))
    else:
        export.export_panel(
            KEY + "export_", config=config, snippet=snippets.train_snippet(config, exp.trainer.epoch),
            snippet_file="build_and_train.py", model=exp.trainer.model,
            figures=[(N_("Loss and accuracy"), lambda: plots.training_curves(exp.trainer.history))],  # shown translated
            note=N_("The script trains from the start with these settings. If you changed a training setting "
                    "part-way, press Reset and train again to get numbers that match."),
        )


# A function of its own, so the timed fragment has an identity apart from the paused view's container: a panel
# run that no longer calls it drops it, and Streamlit then cancels its timer.
def playing_neuron_view() -> None:
    neuron_view()


main()
