"""How a playing live view and its trainer talk over HTTP, declared once for the server's routes
(``app_pages/ui/live_stream``), the view that calls them (``app_pages/ui/live_view``) and the benchmark that
stands in for a student's browser (``playground.bench.classroom``).

Light on purpose: the server imports it at start-up, before anything needs TensorFlow.
"""

PATH = "/api/live/"  # + token: GET new frames; + token + "/play" or "/pause": POST
STREAM_INTERVAL_SECONDS = 0.1  # a playing view asks for new frames this often (the server waits for one)
