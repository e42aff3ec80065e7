"""Provider callbacks (`POST /hooks/<provider>/<token>`): from a request to a code in the chat.

The web server hands each request to `HookReceiver` (receiver.py), which finds the account by the
URL's token and passes the body to the provider's part (kiwi.py, nonvoip.py). A callback goes the
way a poll's answer goes (`Delivery.apply`: stored first, then sent once), so a code that both
paths bring is one message.
"""

from bot.hooks.common import HookAnswer
from bot.hooks.receiver import HookReceiver

__all__ = ["HookAnswer", "HookReceiver"]
