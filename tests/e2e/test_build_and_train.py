"""Build & Train in real Chromium: Play trains, Pause stops, the URL is honoured, divergence is caught."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from tests.e2e.helpers import address, assert_on_first_screen, epoch, live_metric, metric, wait_until

pytestmark = pytest.mark.e2e

PAGE = "/build_and_train"


def open_trainer(page, app_url: str, query: str = "") -> None:
    page.goto(app_url + PAGE + query)
    page.get_by_role("button", name="Play").wait_for()
    page.locator("[data-testid='boundary-view']").wait_for()


def frames_drawn(page) -> int:
    """Counted by the canvas instance since it mounted; the locator is strict, so a second canvas fails it."""
    return int(page.locator("[data-testid='boundary-view']").get_attribute("data-frames-drawn"))


def first_screen_boxes(page) -> dict[str, dict | None]:
    stage = page.locator("[data-testid='boundary-view'] .bv-stage")
    wait_until(lambda: (stage.bounding_box() or {}).get("height", 0) > 0, message="the boundary to be drawn")
    return {
        "the boundary": stage.bounding_box(),
        "Play": page.get_by_role("button", name="Play").bounding_box(),
        "the epoch counter": page.locator("[data-testid='live-metric'][data-label='Epoch']").bounding_box(),
    }


def test_the_boundary_and_play_share_the_first_screen(projector_page, app_url, artifacts):
    """On a projector the decision boundary, Play and the epoch counter are in view at once, the boundary large."""
    page = projector_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    open_trainer(page, app_url)
    boxes = first_screen_boxes(page)
    page.screenshot(path=str(artifacts / f"build_and_train_first_screen_{width}x{height}.png"))
    assert_on_first_screen(page, boxes)
    content = page.get_by_test_id("stMainBlockContainer").evaluate(
        "e => { const s = getComputedStyle(e); return e.clientWidth - parseFloat(s.paddingLeft)"
        " - parseFloat(s.paddingRight); }"
    )
    assert boxes["the boundary"]["width"] >= 0.45 * content, f"{boxes['the boundary']} in {content} px"


def test_in_presenter_mode_the_boundary_and_play_still_share_the_first_screen(projector_page, app_url, artifacts):
    """Presenter mode enlarges the text, not the title or the lecturer's buttons, so the figure stays in view."""
    page = projector_page
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    open_trainer(page, app_url, "?presenter=true")
    boxes = first_screen_boxes(page)
    page.screenshot(path=str(artifacts / f"build_and_train_presenter_first_screen_{width}x{height}.png"))
    assert_on_first_screen(page, boxes)


def test_play_trains_and_pause_stops(page, app_url, artifacts):
    open_trainer(page, app_url)
    assert epoch(page) == 0
    initial_loss = float(live_metric(page, "Train loss"))
    drawn_before = frames_drawn(page)

    page.get_by_role("button", name="Play").click()
    counts = []
    wait_until(lambda: counts.append(frames_drawn(page)) or epoch(page) >= 30, interval=0.05,
               message="the epoch counter to pass 30")
    assert counts == sorted(counts), f"the canvas was mounted afresh on Play (frames drawn went {counts})"
    wait_until(lambda: float(live_metric(page, "Train loss")) < initial_loss * 0.5, message="the train loss to halve")
    wait_until(lambda: frames_drawn(page) > drawn_before + 10, message="the boundary view to animate")
    page.screenshot(path=str(artifacts / "build_and_train.png"))

    drawn_playing = frames_drawn(page)
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    assert frames_drawn(page) >= drawn_playing, "the canvas was mounted afresh on Pause"
    paused_at = epoch(page)
    time.sleep(2.0)
    assert epoch(page) == paused_at, "training must stop when paused"
    # The canvas finishes playing the frames it already had before it shows the paused state.
    canvas = page.locator("[data-testid='boundary-view']")
    wait_until(lambda: canvas.get_attribute("data-epoch") == str(paused_at), timeout=10,
               message=f"the boundary view to show epoch {paused_at}")


def test_the_curves_grow_while_playing_and_the_page_runs_no_script(page, app_url):
    sent = []  # the browser's messages to Streamlit: a script run is asked for by one
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.monotonic())))
    open_trainer(page, app_url, "?speed=fast")
    curves = page.get_by_test_id("live-curves")
    assert curves.get_attribute("data-points") == "1"
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 20, message="the epoch counter to pass 20")
    time.sleep(0.5)  # Play's own run, which lets the page follow
    quiet_from, points = time.monotonic(), int(curves.get_attribute("data-points"))
    time.sleep(3.0)
    assert int(curves.get_attribute("data-points")) > points, "the curves stopped while the boundary played"
    assert not [t for t in sent if t > quiet_from], "a playing page asked for script runs"
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    wait_until(lambda: curves.get_attribute("data-last-epoch") == str(epoch(page)),
               message="the curves to end at the epoch where training stopped")


def test_step_trains_exactly_one_epoch(page, app_url):
    open_trainer(page, app_url, "?dataset=xor&init_seed=3")
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 1, message="one epoch after Step")
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 2, message="two epochs after two Steps")


def test_url_parameters_are_honoured(page, app_url):
    query = "?dataset=spiral&layers=8,6,5&activations=relu,elu,gelu&features=x1,x2,sin_x1&init_seed=42&batch=32"
    open_trainer(page, app_url, query)
    assert page.get_by_role("combobox", name="Dataset").input_value() == "Spiral"
    assert page.get_by_label("Hidden layers").input_value() == "3"
    assert page.get_by_label("Layer 3 neurons").input_value() == "5"
    assert page.get_by_label("Initialiser seed").input_value() == "42"
    assert page.get_by_role("combobox", name="Layer 2 activation").input_value() == "ELU"
    # The URL is rewritten with every setting, so the link can be shared as it stands.
    shared = parse_qs(urlparse(address(page)).query)
    assert shared["layers"] == ["8,6,5"] and shared["activations"] == ["relu,elu,gelu"]
    assert shared["features"] == ["x1,x2,sin_x1"] and shared["init_seed"] == ["42"]


def test_same_url_reproduces_the_same_initial_network(page, app_url):
    query = "?dataset=moons&layers=5&activations=tanh&init_seed=11&data_seed=5"
    open_trainer(page, app_url, query)
    first = (live_metric(page, "Train loss"), live_metric(page, "Test accuracy"))
    open_trainer(page, app_url, query)
    assert (live_metric(page, "Train loss"), live_metric(page, "Test accuracy")) == first


def test_garbage_in_the_url_falls_back_with_a_notice(page, app_url):
    open_trainer(page, app_url, "?lr=banana&layers=99,1&dataset=%3Cscript%3E&noise=-4")
    alerts = page.get_by_test_id("stAlert")
    for name in ("lr", "layers", "dataset", "noise"):
        assert alerts.filter(has_text=f"Ignored URL parameter {name}=").count() == 1
    assert page.get_by_label("Hidden layers").input_value() == "2"
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 1, message="the page to keep working")


def test_divergence_pauses_and_reset_recovers(page, app_url):
    open_trainer(page, app_url, "?layers=8,8&activations=linear,linear&optimizer=sgd&lr=10")
    page.get_by_role("button", name="Play").click()
    error = page.get_by_test_id("stAlert").filter(has_text="Training diverged")
    error.wait_for()
    assert "learning rate" in error.inner_text()
    assert page.get_by_role("button", name="Play").is_disabled()

    page.get_by_role("button", name="Reset").click()
    wait_until(lambda: error.count() == 0, message="Reset to clear the divergence")
    wait_until(lambda: page.get_by_role("button", name="Play").is_enabled(), message="Play to be enabled again")
    assert epoch(page) == 0


def test_a_loss_going_nowhere_is_said_while_it_plays(page, app_url):
    open_trainer(page, app_url, "?optimizer=adam&lr=10&speed=max")
    page.get_by_role("button", name="Play").click()
    warning = page.get_by_test_id("stAlert").filter(has_text="Training is not learning")
    warning.wait_for(timeout=30_000)  # no click: the live view sees it in its stream and asks the page to say so
    assert "10x smaller" in warning.inner_text()
    assert page.get_by_role("button", name="Pause").is_visible(), "a warning, not a stop"


def test_linear_model_and_single_neuron(page, app_url):
    open_trainer(page, app_url, "?layers=&activations=")
    assert page.get_by_label("Hidden layers").input_value() == "0"
    assert page.get_by_text("this is a linear model").count() == 1
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 1, message="a linear model to train")

    open_trainer(page, app_url, "?layers=1&activations=relu")
    page.get_by_role("button", name="Step").click()
    wait_until(lambda: epoch(page) == 1, message="a one-neuron network to train")


def test_the_attack_lens_shows_arrows_crossings_and_the_minimum_eps_map(page, app_url, artifacts):
    open_trainer(page, app_url, "?dataset=moons&noise=20&lens=true&lens_eps=0.8&speed=max")
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 20, message="some training")
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Play").wait_for()
    wait_until(lambda: metric(page, "Robust accuracy").endswith("%"), message="the lens's robust accuracy")
    lens_plot = page.locator(".st-key-bt_lens_plot .js-plotly-plot")
    # While a rerun replaces the figure, Streamlit briefly shows the old one beside the new.
    wait_until(lambda: lens_plot.count() == 1, message="one lens plot")
    # The arrows trace and the crossed points are drawn; the picked point's eps-ball is a layout shape.
    assert lens_plot.locator(".scatterlayer .trace").count() >= 5
    crossed = int(metric(page, "Pushed across the boundary").split(" of ")[0])
    assert crossed == 0 or lens_plot.locator(".shapelayer path").count() >= 1
    page.locator(
        ".st-key-bt_lens_map .js-plotly-plot .heatmaplayer, .st-key-bt_lens_map .js-plotly-plot image"
    ).first.wait_for()
    page.screenshot(path=str(artifacts / "lens.png"), full_page=True)


def test_the_neuron_maps_are_linked_by_their_weights(page, app_url, artifacts):
    """As in TensorFlow Playground: a line from every neuron to every neuron of the next column, the output's
    included, blue for a positive weight and orange for a negative one, and the lines follow the weights as the
    network trains."""
    open_trainer(page, app_url, "?layers=4,2&features=x1,x2&speed=max")
    lines = page.get_by_test_id("neuron-links").locator("line")
    wait_until(lambda: lines.count() == 2 * 4 + 4 * 2 + 2 * 2, message="a line per weight: 2x4, 4x2 and 2x2")
    captions = page.locator(".bv-maps figcaption").all_inner_texts()
    assert captions == ["inputs", "layer 1", "layer 2", "output"], captions

    def weights() -> list[float]:
        return [float(w) for w in lines.evaluate_all("ls => ls.map(l => l.dataset.weight)")]

    colours = lines.evaluate_all("ls => ls.map(l => l.getAttribute('stroke'))")
    for weight, colour in zip(weights(), colours, strict=True):
        assert colour == ("#0877bd" if weight >= 0 else "#f59322"), (weight, colour)
    before = weights()
    page.get_by_role("button", name="Play").click()
    wait_until(lambda: epoch(page) >= 20, message="20 epochs")
    page.get_by_role("button", name="Pause").click()
    wait_until(lambda: weights() != before, message="the links to follow the trained weights")
    page.locator(".bv-maps").screenshot(path=str(artifacts / "neuron_links.png"))


def test_presenter_mode_enlarges_the_live_view_too(page, app_url, artifacts):
    """Its canvas axes, epoch tag and captions grow with the page's text, and "inputs" never breaks mid-word."""
    open_trainer(page, app_url, "?presenter=true")
    view = page.locator("[data-testid='boundary-view']")
    wait_until(lambda: float(view.get_attribute("data-text-scale") or 0) == 22 / 16, message="the canvas text scale")
    tag = page.locator(".bv-epoch")
    assert float(tag.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 16
    caption = page.locator(".bv-maps figcaption").first
    lines = caption.evaluate("e => { const r = document.createRange(); r.selectNodeContents(e); "
                             "return r.getClientRects().length; }")
    assert caption.inner_text() == "inputs" and lines == 1, f"the caption takes {lines} lines"
    page.screenshot(path=str(artifacts / "build_and_train_presenter.png"))
