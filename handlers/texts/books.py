"""The books: /history's filters, the summary per provider and month, the CSV export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from handlers.i18n import _, ngettext, pgettext
from handlers.texts.common import clip_message, money, provider_name
from handlers.zones import month_name, zone_label
from providers.models import ProviderId
from storage.books import BookFilter, MonthTotals, Period, StatusFilter


# Words of the filters, translated when shown (never at import). A context of their own: a filter
# names a group of orders ("Cancelled" orders), not one order's status.
def period_words(period: Period) -> str:
    words = {
        Period.ALL: pgettext("history period", "All time"),
        Period.THIS_MONTH: pgettext("history period", "This month"),
        Period.LAST_MONTH: pgettext("history period", "Last month"),
        Period.LAST_30_DAYS: pgettext("history period", "Last 30 days"),
    }
    return words[period]


def status_filter_words(status: StatusFilter) -> str:
    words = {
        StatusFilter.FINISHED: pgettext("history filter", "Finished"),
        StatusFilter.LIVE: pgettext("history filter", "Active"),
        StatusFilter.COMPLETED: pgettext("history filter", "Completed"),
        StatusFilter.CANCELLED: pgettext("history filter", "Cancelled"),
        StatusFilter.EXPIRED: pgettext("history filter", "Expired"),
        StatusFilter.REFUNDED: pgettext("history filter", "Refunded"),
    }
    return words[status]


def all_providers() -> str:
    return _("All providers")


def summary_button() -> str:
    return _("📊 Summary")


def export_button() -> str:
    return _("⬇️ Export CSV")


def nothing_to_export() -> str:
    return _("Nothing to export yet: this chat has no orders.")


def no_matching_orders() -> str:
    return _("No orders match these filters.")


def no_summary() -> str:
    return _("No orders yet: nothing to sum up.")


def export_caption() -> str:
    return _("Your order history (times in UTC).")


def export_file_name() -> str:
    return _("order-history.csv")


def choose_provider() -> str:
    return _("Show the orders of which provider?")


def choose_period() -> str:
    return _("Show the orders of which period?")


def choose_status() -> str:
    return _("Show which orders?")


def provider_button(choice: str) -> str:
    return _("Provider: {provider}").format(provider=choice)


def period_button(choice: str) -> str:
    return _("Period: {period}").format(period=choice)


def status_button(choice: str) -> str:
    return _("Show: {status}").format(status=choice)


def provider_choice(provider: ProviderId | None) -> str:
    return all_providers() if provider is None else provider_name(provider)


def filter_line(book_filter: BookFilter) -> str:
    return " · ".join(
        (provider_choice(book_filter.provider), period_words(book_filter.period),
         status_filter_words(book_filter.status))
    )


def filtered_page(
    entries: Sequence[str], book_filter: BookFilter, page: int, pages: int, zone: tzinfo = UTC
) -> str:
    head = _("<b>History</b> (page {page}/{pages}, newest first; times in {zone})").format(
        page=page + 1, pages=pages, zone=zone_label(zone)
    )
    head += f"\n{filter_line(book_filter)}"
    body = "\n\n".join(entries) if entries else no_matching_orders()
    return clip_message(head + "\n\n" + body)


def _month_heading(month: str, zone: tzinfo) -> str:
    """ "2026-04" (a month of the chat's zone) as "April 2026" / "апрель 2026 г.". The 15th at noon
    UTC is in that same month in every zone (offsets stay within ±14 hours)."""
    year, number = (int(part) for part in month.split("-"))
    return month_name(datetime(year, number, 15, 12, tzinfo=UTC), zone)


def provider_month_line(totals: MonthTotals) -> str:
    orders = ngettext("{count} order", "{count} orders", totals.orders).format(count=totals.orders)
    codes = ngettext("{count} code", "{count} codes", totals.codes).format(count=totals.codes)
    return _("{provider}: {orders}, {codes}, spent {spent}, refunded {refunded}").format(
        provider=provider_name(totals.provider), orders=orders, codes=codes, spent=money(totals.spent),
        refunded=money(totals.refunded),
    )


def summary(months: Sequence[MonthTotals], zone: tzinfo = UTC) -> str:
    """Months are the chat's (`zone`), named in its language."""
    if not months:
        return no_summary()
    lines = [_("<b>📊 Summary</b> (per provider and month, {zone})").format(zone=zone_label(zone))]
    current = ""
    for totals in months:
        if totals.month != current:
            current = totals.month
            lines.append(f"\n<b>{_month_heading(current, zone)}</b>")
        lines.append(provider_month_line(totals))
    return clip_message("\n".join(lines))
