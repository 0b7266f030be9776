import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongniang.settings")
application = get_wsgi_application()

# The matching engine's snapshot and tokenizer load as the process starts, not in a request.
from hongniang.matching.index import warm_up  # noqa: E402 - needs the apps loaded above

warm_up()
