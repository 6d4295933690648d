"""Where the submitter side meets moderation and connect: duplicate flags on confirmation, and
the contact's own switch for relayed messages (form and manage page)."""
from __future__ import annotations

from sqlalchemy import select

from registry.extensions import db
from registry.moderation.models import DuplicateFlag
from registry.submissions.models import Contact
from tests.fixtures.mail import confirm_link, manage_link, path_of
from tests.manage.helpers import open_manage_link, post_with_csrf, publish, submit


def test_confirming_flags_a_likely_duplicate_for_the_moderators(csrf_client, smtp_server):
    first = submit(csrf_client, title="Eigen leerroute met coach")
    post_with_csrf(csrf_client, path_of(confirm_link(smtp_server.last())),
                   path_of(confirm_link(smtp_server.last())))
    second = submit(csrf_client, title="Eigen leerroute met coaches")  # same BRIN, same school
    assert db.session.scalars(select(DuplicateFlag)).all() == []  # not before confirmation
    url = path_of(confirm_link(smtp_server.last()))
    post_with_csrf(csrf_client, url, url)
    flags = db.session.scalars(select(DuplicateFlag)).all()
    assert [{f.first_id, f.second_id} for f in flags] == [{first.id, second.id}]


def test_opt_in_for_messages_on_the_form_is_stored(csrf_client, smtp_server):
    submit(csrf_client, **{"contact-accepts_messages": "y"})
    submit(csrf_client)
    assert db.session.scalars(select(Contact.accepts_messages).order_by(Contact.id)).all() \
        == [True, False]


def test_manage_page_switches_relayed_messages_on_and_off(csrf_client, smtp_server):
    initiative = submit(csrf_client)
    publish(initiative)
    manage = open_manage_link(csrf_client, manage_link(smtp_server.last()))
    html = csrf_client.get(manage).get_data(as_text=True)
    assert "Berichten van andere scholen ontvangen" in html
    opt_in = next(part.split('"')[0] for part in html.split('href="')[1:]
                  if part.startswith("/contact/aanmelden/"))
    post_with_csrf(csrf_client, opt_in, opt_in)
    assert db.session.get(Contact, initiative.contact.id).accepts_messages is True
    html = csrf_client.get(manage).get_data(as_text=True)
    assert "Geen berichten van andere scholen meer ontvangen" in html
