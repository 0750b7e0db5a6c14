"""Pagination of long lists that stays as fast on the last page as on the first."""

from collections.abc import Callable

from django.core.paginator import Paginator


class DeferredJoinPaginator(Paginator):
    """Pages through sorted ids and loads the rows of the one page shown.

    ``object_list`` is a queryset of ids in the list's final order (an index walk: no
    row is joined, nothing is sorted in memory); ``load(ids)`` returns the rows shown,
    joined with what they display, in that order. A page past the middle is sliced from
    the end in reverse order, so that the walk is never longer than half the list.
    """

    def __init__(self, ids, per_page: int, *, load: Callable[[list], list], **kwargs):
        super().__init__(ids, per_page, **kwargs)
        self.load = load

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom > self.count - top:
            ids = list(self.object_list.reverse()[self.count - top : self.count - bottom])[::-1]
        else:
            ids = list(self.object_list[bottom:top])
        return self._get_page(self.load(ids), number, self)
