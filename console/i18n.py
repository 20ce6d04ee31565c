"""Every label and message of the console, in Chinese and English.

One table, so a missing translation is a test failure rather than a blank on a duty officer's screen.
"""

from __future__ import annotations

import locale
import os
from typing import Literal

Lang = Literal["zh", "en"]

# key: (中文, English)
TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("网格通 值班台", "Gridwatch duty console"),
    "conn.connecting": ("连接中", "connecting"),
    "conn.live": ("实时", "live"),
    "conn.lost": ("连接中断，重连中", "connection lost, reconnecting"),
    "conn.refused": ("服务器拒绝: {detail}", "server refused: {detail}"),
    "nav.board": ("事件看板", "Board"),
    "nav.whistles": ("吹哨报到", "Whistles"),
    "nav.map": ("地图", "Map"),
    "nav.patrols": ("网格员巡查", "Patrols"),
    "nav.sweep": ("周二综合查", "Tuesday sweep"),
    "nav.kpis": ("绩效评价", "KPIs"),
    "nav.later": ("{screen}: 将在后续版本提供", "{screen}: comes in a later release"),
    "key.quit": ("退出", "Quit"),
    "key.palette": ("命令", "commands"),
    "key.open": ("打开", "Open"),
    "key.back": ("返回", "Back"),
    "key.search": ("搜索", "Search"),
    "key.filters": ("筛选", "Filters"),
    "key.clear": ("清除筛选", "Clear filters"),
    "key.refresh": ("刷新", "Refresh"),
    "key.accept": ("立案", "Accept"),
    "key.reject": ("不予立案", "Reject"),
    "key.dispatch": ("派遣", "Dispatch"),
    "key.reroute": ("改派", "Re-route"),
    "key.whistle": ("吹哨", "Whistle"),
    "key.suspend": ("缓办", "Suspend"),
    "key.resume": ("恢复", "Resume"),
    "key.verify": ("核查通过", "Verify"),
    "key.close": ("结案", "Close"),
    "key.reopen": ("返工", "Reopen"),
    "key.report_in": ("报到", "Report in"),
    "key.rate": ("评分", "Rate"),
    "key.zoom_in": ("放大", "Zoom in"),
    "key.zoom_out": ("缩小", "Zoom out"),
    "key.next_marker": ("下一个", "Next marker"),
    "key.prev_marker": ("上一个", "Previous marker"),
    "col.urgent": ("急", "!"),
    "col.reported": ("上报时间", "Reported"),
    "col.category": ("类别", "Category"),
    "col.place": ("网格 / 村 / 乡镇", "Cell / village / township"),
    "col.lead": ("主办单位", "Lead unit"),
    "col.state": ("状态", "State"),
    "col.left": ("剩余时限", "Time left"),
    "col.source": ("来源", "Source"),
    "col.worker": ("网格员", "Worker"),
    "col.online": ("在线", "Online"),
    "col.last_ping": ("最后定位", "Last ping"),
    "col.cell_now": ("当前网格", "Current cell"),
    "col.covered": ("本周巡查网格", "Cells this week"),
    "col.unit": ("单位", "Unit"),
    "col.due": ("报到时限", "Report-in due"),
    "col.reported_in": ("报到", "Reported in"),
    "col.rating": ("评分", "Rating"),
    "col.cells_covered": ("已覆盖网格", "Cells covered"),
    "col.area": ("区域", "Area"),
    "col.share": ("覆盖率", "Coverage"),
    "filter.township": ("乡镇", "Township"),
    "filter.unit": ("单位", "Unit"),
    "filter.state": ("状态", "State"),
    "filter.category": ("类别", "Category"),
    "filter.overdue": ("仅超时", "Overdue only"),
    "filter.search": ("搜索: 类别、网格、单位、描述", "Search: category, cell, unit, text"),
    "filter.any": ("全部", "All"),
    "board.count": ("显示 {shown} / 共 {total} 件未办结", "{shown} shown of {total} open"),
    "board.empty": ("没有符合条件的事件", "No incident matches"),
    "board.loading": ("正在载入事件…", "Loading incidents…"),
    "board.urgent_new": ("紧急事件: {category} @ {place}", "Urgent incident: {category} at {place}"),
    "time.overdue": ("超时{span}", "overdue {span}"),
    "time.none": ("—", "—"),
    "span.days": ("{d}天{h}时", "{d}d {h}h"),
    "span.hours": ("{h}时{m:02d}分", "{h}h {m:02d}m"),
    "span.minutes": ("{m}分", "{m}m"),
    "state.reported": ("待立案", "reported"),
    "state.accepted": ("已立案", "accepted"),
    "state.dispatched": ("已派遣", "dispatched"),
    "state.signed": ("已签收", "signed"),
    "state.handled": ("已处置", "handled"),
    "state.verified": ("已核查", "verified"),
    "state.closed": ("已结案", "closed"),
    "state.rejected": ("不予立案", "rejected"),
    "state.returned": ("已回退", "returned"),
    "state.duplicate": ("重复", "duplicate"),
    "state.suspended": ("缓办", "suspended"),
    "state.reopened": ("返工", "reopened"),
    "state.review": ("待复核", "in review"),
    "source.report": ("网格员", "worker"),
    "source.alert": ("告警", "alert"),
    "source.open311": ("Open311", "Open311"),
    "source.hotline": ("热线", "hotline"),
    "stage.accept": ("立案", "accept"),
    "stage.dispatch": ("派遣", "dispatch"),
    "stage.sign": ("签收", "sign"),
    "stage.handle": ("处置", "handle"),
    "stage.verify": ("核查", "verify"),
    "col.at": ("时间", "At"),
    "col.step": ("环节", "Step"),
    "col.actor": ("办理人", "By"),
    "col.reason": ("理由", "Reason"),
    "col.basis": ("依据", "Basis"),
    "action.report": ("上报", "report"),
    "action.alert_merged": ("告警合并", "alert merged"),
    "action.accept": ("立案", "accept"),
    "action.reject": ("不予立案", "reject"),
    "action.mark_duplicate": ("合并重复", "mark duplicate"),
    "action.dispatch": ("派遣", "dispatch"),
    "action.sign": ("签收", "sign"),
    "action.return": ("回退", "return"),
    "action.handle": ("处置反馈", "handle"),
    "action.verify": ("核查通过", "verify"),
    "action.close": ("结案", "close"),
    "action.reopen": ("返工", "reopen"),
    "action.suspend": ("缓办", "suspend"),
    "action.resume": ("恢复办理", "resume"),
    "action.reroute": ("改派", "re-route"),
    "basis.statutory": ("法定事项", "statutory"),
    "basis.granted": ("赋权事项", "granted"),
    "basis.entrusted": ("委托事项", "entrusted"),
    "basis.entrusted_lapsed": ("委托已失效", "entrustment lapsed"),
    "basis.stationed": ("派驻机构", "stationed unit"),
    "basis.not_listed": ("未列入清单(职责准入)", "not listed (duty admission)"),
    "basis.manual": ("值班员改派", "re-routed by duty officer"),
    "detail.title": ("事件 {id}", "Incident {id}"),
    "detail.where": ("位置", "Where"),
    "detail.coords": ("坐标", "Coordinates"),
    "detail.snapped": ("(已吸附到最近网格)", "(snapped to the nearest cell)"),
    "detail.unlocated": ("未定位: 等待值班员处理", "unlocated: waits for a duty officer"),
    "detail.what": ("事件", "What"),
    "detail.text": ("描述", "Text"),
    "detail.photos": ("照片", "Photos"),
    "detail.no_photos": ("无", "none"),
    "detail.routing": ("为什么由该单位办理", "Why this unit"),
    "detail.support": ("配合单位", "Support"),
    "detail.deadline": ("当前环节时限", "Deadline of this stage"),
    "detail.history": ("办理经过", "History"),
    "detail.assignments": ("派单记录", "Assignments"),
    "detail.duplicates": ("疑似重复", "Probable duplicates"),
    "detail.duplicate_of": ("疑似与 {id} 重复", "probably the same as {id}"),
    "detail.no_duplicates": ("无", "none"),
    "detail.alerts": ("告警 {count} 次, 最近 {at}", "{count} alerts, last at {at}"),
    "detail.map": ("位置图", "Position"),
    "detail.done": ("{action}: 已完成", "{action}: done"),
    "detail.refused": ("{action} 被拒绝: {detail}", "{action} refused: {detail}"),
    "ask.reason": ("请填写理由", "Give the reason"),
    "ask.lead": ("新的主办单位", "New lead unit"),
    "ask.ok": ("确定", "OK"),
    "ask.cancel": ("取消", "Cancel"),
    "ask.required": ("此项必填", "This is required"),
    "whistle.title": ("吹哨: 选择部门和哨型", "Whistle: pick the departments and the kind"),
    "whistle.kind": ("哨型", "Kind"),
    "whistle.reason": ("原因", "Reason"),
    "whistle.units": ("部门", "Departments"),
    "whistle.note": ("说明", "Note"),
    "whistle.pick_one": ("至少选择一个部门", "Pick at least one department"),
    "whistle.kind.routine": ("日常哨", "routine"),
    "whistle.kind.campaign": ("攻坚哨", "campaign"),
    "whistle.kind.emergency": ("应急哨", "emergency"),
    "whistle.reason.cannot_solve": ("乡镇解决不了", "the township cannot solve it"),
    "whistle.reason.no_power": ("缺少执法权", "no enforcement power"),
    "whistle.reason.emergency": ("紧急情况", "emergency"),
    "whistles.heading": ("未完成的吹哨", "Open whistles"),
    "whistles.none": ("没有未完成的吹哨", "No open whistles"),
    "whistles.row": ("{kind} · 事件 {incident} · {opened}", "{kind} · incident {incident} · {opened}"),
    "whistles.waiting": ("待报到", "waiting"),
    "whistles.late": ("迟到", "late"),
    "whistles.on_time": ("按时", "on time"),
    "whistles.rate_ask": ("评分 1–5", "Rating 1–5"),
    "map.heading": ("{township} 网格图 (缩放 {zoom}x)", "{township} cells (zoom {zoom}x)"),
    "map.pick_township": ("选择乡镇", "Pick a township"),
    "map.none": ("没有网格数据", "No cells to draw"),
    "map.selected": ("选中: {category} · {state} · {place}", "Selected: {category} · {state} · {place}"),
    "map.legend": (
        "[yellow]●[/] 待立案  [dodger_blue1]●[/] 办理中  [red]●[/] 超时  [green]●[/] 待核查  [grey62]●[/] 缓办",
        "[yellow]●[/] reported  [dodger_blue1]●[/] in progress  [red]●[/] overdue  [green]●[/] to verify  [grey62]●[/] suspended",
    ),
    "patrols.heading": ("{township} 第 {week} 周巡查", "{township} patrols, week {week}"),
    "patrols.online": ("在线 {online} / {total}", "{online} of {total} online"),
    "patrols.yes": ("在线", "online"),
    "patrols.no": ("离线", "offline"),
    "patrols.coverage": ("网格覆盖 {covered}/{cells} ({share})", "cells covered {covered}/{cells} ({share})"),
    "error.server": ("服务器错误: {detail}", "server error: {detail}"),
    "error.unreachable": ("无法连接服务器 {url}", "cannot reach the server at {url}"),
    "palette.open_incident": ("打开事件 {label}", "Open incident {label}"),
    "palette.go": ("转到: {screen}", "Go to: {screen}"),
}


def default_lang() -> Lang:
    """Chinese when the locale says so, English otherwise."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    current = locale.getlocale()[0] or ""
    return "zh" if current.lower().startswith("zh") else "en"


class Texts:
    """The console's words in one language; `t("key", name=value)` formats them."""

    def __init__(self, lang: Lang) -> None:
        self.lang: Lang = lang
        self._column = 0 if lang == "zh" else 1

    def __call__(self, key: str, **values: object) -> str:
        text = TEXTS[key][self._column]
        return text.format(**values) if values else text

    def state(self, state: str, in_review: bool = False) -> str:
        return self("state.review") if in_review else self(f"state.{state}")

    def other(self) -> Texts:
        return Texts("en" if self.lang == "zh" else "zh")
