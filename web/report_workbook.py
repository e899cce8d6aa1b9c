"""The 月报告, 周梳理 and 台账 as Excel workbooks (openpyxl), laid out as a 政法委 files them.

Numbers are written as numbers and rates as fractions with a percentage format, so the workbook can
be summed and charted; each sheet has a bold shaded header row, frozen below it, and fixed widths.
"""
from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from engine.calendar import SHANGHAI
from engine.cockpit_ledger import COLUMNS, LedgerRow
from engine.cockpit_reports import DEFINITIONS, CaseLine, Line, Listing, MonthlyReport, WeeklyReport

COUNT, PERCENT, AMOUNT, DATETIME = "#,##0", "0.0%", "#,##0.00", "yyyy-mm-dd hh:mm"
# A rate's change is in percentage points (个百分点), not a percentage of the rate: write points.
POINTS = '+0.0"个百分点";-0.0"个百分点";0.0"个百分点"'
CHANGE = "+0.0%;-0.0%;0.0%"
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
TITLE_FONT = Font(bold=True, size=14)
THIN = Side(style="thin", color="A6A6A6")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="top")
FORMATS = {"count": COUNT, "rate": PERCENT, "amount": AMOUNT}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}

Cell = tuple[object, str | None]  # a value and its number format


def monthly_workbook(report: MonthlyReport, author: str) -> bytes:
    """《矛盾纠纷排查化解工作月报告》 as an .xlsx file."""
    book = Workbook()
    title = f"{report.scope_name}矛盾纠纷排查化解工作月报告（{report.period.label}）"
    _cover(book.active, title, report.scope_name, report.scope, report.period.label, author, report.now)
    _table(book.create_sheet("总体指标"), title,
           [("指标", 16), ("本月", 12), ("上月", 12), ("环比", 14), ("上年同期", 12), ("同比", 14), ("口径说明", 60)],
           [_overall(line) for line in report.overall])
    channel_columns = [(label, 12) for _, label in report.channels]
    _table(book.create_sheet("矛盾纠纷排查化解情况统计表"), f"{report.scope_name}矛盾纠纷排查化解情况统计表（{report.period.label}）",
           [("地区", 20), ("受理总数", 10), *channel_columns, ("办结", 10), ("化解成功", 10), ("在办", 10),
            ("其中超期", 10), ("化解率", 10), ("满意度", 10)],
           [[(p.label, None), (p.received, COUNT), *((p.by_channel.get(code, 0), COUNT) for code, _ in report.channels),
             (p.closed, COUNT), (p.resolved, COUNT), (p.open, COUNT), (p.overdue, COUNT), (p.resolution_rate, PERCENT),
             (p.satisfaction_rate, PERCENT)] for p in report.places])
    _table(book.create_sheet("分类统计"), f"分类统计（{report.period.label}）",
           [("纠纷类别", 20), ("受理", 10), ("办结", 10), ("化解成功", 10), ("化解率", 10), ("上年同期受理", 14),
            ("同比", 12)],
           [[(c.label, None), (c.received, COUNT), (c.closed, COUNT), (c.resolved, COUNT), (c.resolution_rate, PERCENT),
             (c.received_year_before, COUNT), (c.year_change, CHANGE)] for c in report.categories])
    _table(book.create_sheet("三调对接"), f"三调对接（{report.period.label}）",
           [("来源渠道", 18), ("受理", 10), ("分流率", 10), ("调解成功率", 12), ("执行到位率", 12), ("群众吸附率", 12)],
           [[(c.label, None), (c.received, COUNT), (c.dispatch_rate, PERCENT), (c.resolution_rate, PERCENT),
             (c.performance_rate, PERCENT), (c.absorption_rate, PERCENT)] for c in report.channel_lines])
    s = report.supervision
    sheet = book.create_sheet("督办预警")
    _table(sheet, f"督办预警（截至 {_local(report.now)}）", [("项目", 18), ("数量", 10), ("说明", 50)],
           [[("临期", None), (s.near_due, COUNT), (DEFINITIONS["near_due"], None)],
            [("超期", None), (s.overdue, COUNT), (DEFINITIONS["overdue"], None)],
            [("二次督办", None), (s.second_supervision, COUNT), (DEFINITIONS["second_supervision"], None)]])
    _table(sheet, "在办案件风险等级分布", [("风险等级", 18), ("在办", 10), ("其中超期", 10), ("其中临期", 10)],
           [[(r.label, None), (r.open, COUNT), (r.overdue, COUNT), (r.near_due, COUNT)] for r in s.by_risk],
           start_row=sheet.max_row + 2, freeze=False)
    return _save(book)


def weekly_workbook(report: WeeklyReport, author: str) -> bytes:
    """周梳理 as an .xlsx file."""
    book = Workbook()
    title = f"{report.scope_name}矛盾纠纷周梳理（{report.period.label}）"
    sheet = book.active
    sheet.title = "本周概况"
    _table(sheet, title, [("指标", 14), ("本周", 10), ("上周", 10), ("环比", 12), ("说明", 50)],
           [[(line.name, None), (line.current, FORMATS[line.kind]), (line.previous, FORMATS[line.kind]),
             _weekly_change(line),
             (line.definition or "", None)] for line in report.summary])
    sheet.cell(sheet.max_row + 2, 1, f"填报人：{author}　生成时间：{_local(report.now)}")
    late = [("案件编号", 24), ("纠纷类别", 14), ("当前环节", 16), ("期限", 18), ("剩余/超出", 14), ("承办单位", 28),
            ("状态", 8)]
    _listing(book.create_sheet("临期超期清单"), "临期超期清单", late, report.deadlines,
             lambda r: [(r.code, None), (r.category, None), (r.node, None), _time(r.due_at), (_remaining(r), None),
                        (r.unit, None), (r.state, None)])
    _listing(book.create_sheet("红橙预警清单"), "红橙预警清单",
             [("案件编号", 24), ("风险等级", 10), ("纠纷类别", 14), ("当前环节", 16), ("期限", 18), ("承办单位", 28),
              ("状态", 8)], report.red_orange,
             lambda r: [(r.code, None), (r.risk_color, None), (r.category, None), (r.node, None), _time(r.due_at),
                        (r.unit, None), (r.state, None)])
    _listing(book.create_sheet("回访不满意及二次督办"), "回访不满意及二次督办",
             [("案件编号", 24), ("纠纷类别", 14), ("满意度", 10), ("二次督办次数", 14), ("承办单位", 28), ("状态", 8)],
             report.follow_ups,
             lambda r: [(r.code, None), (r.category, None), (SATISFACTION.get(r.satisfaction, "未回访"), None),
                        (r.second_supervision_count, COUNT), (r.unit, None), (r.state, None)])
    sheet = book.create_sheet("高频纠纷")
    _table(sheet, "高频纠纷：纠纷类别（按本周受理）", [("纠纷类别", 20), ("受理", 10)],
           [[(f.label, None), (f.received, COUNT)] for f in report.top_categories])
    _table(sheet, "高频纠纷：地区（按本周受理）", [("地区", 20), ("受理", 10)],
           [[(f.label, None), (f.received, COUNT)] for f in report.top_places], start_row=sheet.max_row + 2,
           freeze=False)
    return _save(book)


def ledger_workbook(rows: Iterable[LedgerRow], title: str) -> bytes:
    """The 台账: one row per case, written in write-only mode so a long ledger stays light."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("案件台账")
    widths = (24, 17, 14, 14, 16, 26, 18, 8, 8, 10, 22, 14, 10, 10, 17)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A3"
    title_cell = WriteOnlyCell(sheet, title)
    title_cell.font = TITLE_FONT
    sheet.append([title_cell])
    sheet.append([_write_only(sheet, name, header=True) for name in COLUMNS])
    for row in rows:
        sheet.append([row.code, _write_only(sheet, _naive(row.created_at), DATETIME), row.category, row.channel,
                      row.registered_at, row.unit, row.nodes, row.status, row.risk_color, row.applicant_name,
                      row.applicant_id_number, row.applicant_phone, row.outcome, row.satisfaction,
                      _write_only(sheet, _naive(row.closed_at), DATETIME)])
    return _save(book)


# -- layout ---------------------------------------------------------------------------------------

def _cover(sheet: Worksheet, title: str, scope_name: str, scope: str, period_label: str, author: str,
           now: datetime) -> None:
    sheet.title = "封面说明"
    sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 16, 70
    sheet.cell(1, 1, title).font = TITLE_FONT
    rows = [("填报单位", scope_name), ("行政区划代码", scope), ("统计期", period_label), ("填报人", author),
            ("报送日期", now.astimezone(SHANGHAI).date().isoformat()),
            ("说明", "数据取自枫桥案件办理系统，与驾驶舱同一口径：统计期内的数按登记时间（受理）或办结时间（办结）计；"
                   "在办、超期、临期为报表生成时的实时数。各项指标的口径见“总体指标”表的口径说明。")]
    for index, (name, value) in enumerate(rows, start=3):
        sheet.cell(index, 1, name).font = HEADER_FONT
        cell = sheet.cell(index, 2, value)
        cell.alignment = WRAP


def _weekly_change(line: Line) -> Cell:
    """环比 of a 周梳理 line: a rate's (10个工作日内办结率) in percentage points, a count's in per cent."""
    if line.kind == "rate":
        return (line.previous_change * 100 if line.previous_change is not None else None), POINTS
    return line.previous_change, CHANGE


def _overall(line: Line) -> list[Cell]:
    value = FORMATS[line.kind]
    change = POINTS if line.kind == "rate" else CHANGE

    def points(delta):  # a rate's change shown in percentage points
        return delta * 100 if delta is not None and line.kind == "rate" else delta

    if not line.compared:
        return [(line.name, None), (line.current, value), ("—", None), ("—", None), ("—", None), ("—", None),
                (line.definition, None)]
    return [(line.name, None), (line.current, value), (line.previous, value), (points(line.previous_change), change),
            (line.year_before, value), (points(line.year_change), change), (line.definition, None)]


def _listing(sheet: Worksheet, title: str, headers, listing: Listing, cells) -> None:
    rows = [cells(row) for row in listing.rows]
    shown = f"共 {listing.total} 件" + (f"，下表列出前 {len(rows)} 件" if listing.total > len(rows) else "")
    _table(sheet, f"{title}（{shown}）", headers, rows)


def _table(sheet: Worksheet, title: str, headers: list[tuple[str, int]], rows: list[list[Cell]],
           start_row: int = 1, freeze: bool = True) -> None:
    sheet.cell(start_row, 1, title).font = TITLE_FONT
    header_row = start_row + 1
    for column, (name, width) in enumerate(headers, start=1):
        cell = sheet.cell(header_row, column, name)
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = max(sheet.column_dimensions[letter].width or 0, width)
    for offset, row in enumerate(rows, start=1):
        for column, (value, number_format) in enumerate(row, start=1):
            # None is a rate whose denominator is 0: shown as —, never as 0 %.
            cell = sheet.cell(header_row + offset, column, "—" if value is None else value)
            cell.border = BORDER
            if number_format and value is not None:
                cell.number_format = number_format
            if isinstance(value, str) and len(value) > 20:
                cell.alignment = WRAP
    if not rows:
        sheet.cell(header_row + 1, 1, "（无）")
    if freeze:
        sheet.freeze_panes = sheet.cell(header_row + 1, 1)


def _write_only(sheet, value, number_format: str | None = None, header: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value)
    if header:
        cell.font, cell.fill, cell.border = HEADER_FONT, HEADER_FILL, BORDER
    if number_format and value is not None:
        cell.number_format = number_format
    return cell


def _time(value: datetime | None) -> Cell:
    return (_naive(value), DATETIME) if value is not None else ("", None)


def _naive(value: datetime | None) -> datetime | None:
    """Beijing wall time without a zone: Excel has no time zones and a 政法委 reads Beijing time."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value is not None else None


def _local(value: datetime) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _remaining(row: CaseLine) -> str:
    return remaining_text(row.remaining)


def remaining_text(remaining) -> str:
    """剩余 2天3小时 / 超出 5天: the time left before the limit, or how far past it the case is."""
    if remaining is None:
        return ""
    seconds = int(remaining.total_seconds())
    word = "剩余" if seconds >= 0 else "超出"
    days, rest = divmod(abs(seconds), 86400)
    hours = rest // 3600
    if days:
        return f"{word}{days}天{hours}小时" if hours else f"{word}{days}天"
    return f"{word}{hours}小时" if hours else f"{word}不足1小时"


def _save(book: Workbook) -> bytes:
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
