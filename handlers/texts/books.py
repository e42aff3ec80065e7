"""The books: /history's filters, the summary per provider and month, the CSV export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo

from handlers.texts.common import clip_message, money, provider_name
from handlers.zones import zone_label
from providers.models import ProviderId
from storage.books import BookFilter, MonthTotals, Period, StatusFilter

PERIOD_WORDS: dict[Period, str] = {
    Period.ALL: "All time",
    Period.THIS_MONTH: "This month",
    Period.LAST_MONTH: "Last month",
    Period.LAST_30_DAYS: "Last 30 days",
}
STATUS_FILTER_WORDS: dict[StatusFilter, str] = {
    StatusFilter.FINISHED: "Finished",
    StatusFilter.LIVE: "Active",
    StatusFilter.COMPLETED: "Completed",
    StatusFilter.CANCELLED: "Cancelled",
    StatusFilter.EXPIRED: "Expired",
    StatusFilter.REFUNDED: "Refunded",
}
ALL_PROVIDERS = "All providers"
SUMMARY_BUTTON = "📊 Summary"
EXPORT_BUTTON = "⬇️ Export CSV"
NOTHING_TO_EXPORT = "Nothing to export yet: this chat has no orders."
NO_MATCHING_ORDERS = "No orders match these filters."
NO_SUMMARY = "No orders yet: nothing to sum up."
EXPORT_CAPTION = "Your order history (times in UTC)."
EXPORT_FILE_NAME = "order-history.csv"
CHOOSE_PROVIDER = "Show the orders of which provider?"
CHOOSE_PERIOD = "Show the orders of which period?"
CHOOSE_STATUS = "Show which orders?"


def provider_choice(provider: ProviderId | None) -> str:
    return ALL_PROVIDERS if provider is None else provider_name(provider)


def filter_line(book_filter: BookFilter) -> str:
    return " · ".join(
        (provider_choice(book_filter.provider), PERIOD_WORDS[book_filter.period], STATUS_FILTER_WORDS[book_filter.status])
    )


def filtered_page(
    entries: Sequence[str], book_filter: BookFilter, page: int, pages: int, zone: tzinfo = UTC
) -> str:
    head = f"<b>History</b> (page {page + 1}/{pages}, newest first; times in {zone_label(zone)})"
    head += f"\n{filter_line(book_filter)}"
    body = "\n\n".join(entries) if entries else NO_MATCHING_ORDERS
    return clip_message(head + "\n\n" + body)


def summary(months: Sequence[MonthTotals]) -> str:
    if not months:
        return NO_SUMMARY
    lines = ["<b>📊 Summary</b> (per provider and month, UTC)"]
    current = ""
    for totals in months:
        if totals.month != current:
            current = totals.month
            lines.append(f"\n<b>{current}</b>")
        lines.append(
            f"{provider_name(totals.provider)}: {totals.orders} order{'' if totals.orders == 1 else 's'},"
            f" {totals.codes} code{'' if totals.codes == 1 else 's'}, spent {money(totals.spent)},"
            f" refunded {money(totals.refunded)}"
        )
    return clip_message("\n".join(lines))
