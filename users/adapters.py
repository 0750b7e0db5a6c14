from allauth.account.adapter import DefaultAccountAdapter


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are made by support and by fulfilled requests, never by signup."""

    def is_open_for_signup(self, request) -> bool:
        return False
