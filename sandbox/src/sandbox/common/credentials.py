"""The sandbox's credentials (contracts §3), gathered from the two stand-ins that check them.

Not secrets: they only open the local stand-ins.
"""

from sandbox.eventmaker.app import EventmakerSettings
from sandbox.salesforce import auth

EVENTMAKER_AUTH_TOKEN = EventmakerSettings().auth_token

SALESFORCE_CREDENTIALS = {
    "username": auth.USERNAME,
    "password": auth.PASSWORD,
    "security_token": auth.SECURITY_TOKEN,
    "client_id": auth.CLIENT_ID,
    "client_secret": auth.CLIENT_SECRET,
}
