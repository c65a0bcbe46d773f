"""Property-based fuzzing of both webhooks: whatever Twilio (or anyone) sends, no 5xx."""
from __future__ import annotations

import itertools
import urllib.parse
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.basics import gsm
from service.content import load_catalogue
from service.engine import SPECIAL_NODES

from ..helpers import Twilio

CAT = load_catalogue()
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
keys = st.sampled_from(list("0123456789*#")) | st.text(max_size=5)
nodes = st.sampled_from([*CAT.menus, *CAT.topics, *SPECIAL_NODES]) | st.text(max_size=40)
_sids = itertools.count()
fuzz = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@fuzz
@given(node=nodes, slow=st.sampled_from(["0", "1", "x", ""]), misses=st.text(max_size=4),
       digits=keys, speech=text)
def test_voice_menu_never_fails(app, node, slow, misses, digits, speech):
    twilio = Twilio(app)
    query = urllib.parse.urlencode({"node": node, "slow": slow, "misses": misses, "number": misses,
                                    "topic": node})
    params = {"CallSid": "CA" + "f" * 32, "From": "+447400123456", "Digits": digits, "SpeechResult": speech}
    response = twilio.post(f"/voice/menu?{query}", params)
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    assert root.find("Gather") is not None or root.find("Hangup") is not None or root.find("Dial") is not None


@fuzz
@given(body=text, sender=st.sampled_from(["+447400123456", "", "anonymous", "+1 555", "x" * 40]) | text)
def test_sms_never_fails_and_replies_fit(app, body, sender):
    twilio = Twilio(app)
    params = {"MessageSid": f"SM{next(_sids):032d}", "From": sender, "Body": body}
    response = twilio.post("/sms", params)
    assert response.status_code == 200
    root = ET.fromstring(response.data)
    for message in root.findall("Message"):
        assert gsm.fits("".join(message.itertext()))


