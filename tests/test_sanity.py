from audit.selectors import audit_chain_broken_at
from authorizations.services import authorization_grant
from organizations.models import Organization


def test_manager_grants_and_chain_holds(anna, bram, org, service_eh2):
    assert list(Organization.objects.managed_by(anna)) == [org]
    authorization = authorization_grant(
        actor=anna, user=bram, organization=org, level="EH2", scope="service", service=service_eh2, years=1
    )
    assert authorization.status == "active"
    assert audit_chain_broken_at() is None
