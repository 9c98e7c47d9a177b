pragma Singleton
import QtQuick

// The words for the codes the session log stores (end reasons, who started a call, …), in one
// place so every screen says the same and the translators see each once.
QtObject {
    function endReason(code) {
        switch (code) {
        case "completed": return qsTr("正常结束")
        case "cancelled_by_caller": return qsTr("呼叫方取消")
        case "no_interpreter": return qsTr("没有空闲翻译员")
        case "out_of_hours": return qsTr("非服务时间")
        case "declined": return qsTr("翻译员未接听")
        case "dispatch_unreachable": return qsTr("联系不上翻译中心")
        case "network_lost": return qsTr("连接中断")
        case "device_error": return qsTr("设备故障")
        case "interrupted": return qsTr("程序意外中断")
        case "": return qsTr("进行中")
        default: return code === undefined || code === null ? "" : String(code)
        }
    }
    function startedBy(code) {
        switch (code) {
        case "resident": return qsTr("群众自助")
        case "staff": return qsTr("工作人员")
        default: return code === undefined || code === null ? "" : String(code)
        }
    }
    function endedBy(code) {
        switch (code) {
        case "kiosk": return qsTr("本机")
        case "interpreter": return qsTr("翻译员")
        case "dispatch": return qsTr("翻译中心")
        case "system": return qsTr("系统")
        default: return code === undefined || code === null ? "" : String(code)
        }
    }
    function rating(level) {
        switch (level) {
        case 5: return qsTr("非常满意")
        case 4: return qsTr("满意")
        case 3: return qsTr("基本满意")
        case 2: return qsTr("不满意")
        case 1: return qsTr("非常不满意")
        default: return qsTr("未评价")
        }
    }
    function state(code) {
        switch (code) {
        case "requesting": return qsTr("发起呼叫")
        case "queued": return qsTr("排队")
        case "ringing": return qsTr("振铃")
        case "connecting": return qsTr("已接听，接通视频")
        case "connected": return qsTr("通话中")
        case "reconnecting": return qsTr("重新连接")
        case "ended": return qsTr("结束")
        default: return code === undefined || code === null ? "" : String(code)
        }
    }
    function periodKind(kind) {
        switch (kind) {
        case "day": return qsTr("日")
        case "week": return qsTr("周")
        case "month": return qsTr("月")
        case "year": return qsTr("年")
        default: return qsTr("全部")
        }
    }
    // The matters staff pick (config.yaml kiosk.categories) are stored in the session log as
    // written there; on screen they are named as config.yaml kiosk.category_names has them in
    // the language shown, else as the translation files do (the usual ones are listed here for
    // lupdate), else as written.
    readonly property var knownCategories: [
        QT_TRANSLATE_NOOP("Category", "社保"),
        QT_TRANSLATE_NOOP("Category", "医疗"),
        QT_TRANSLATE_NOOP("Category", "民政"),
        QT_TRANSLATE_NOOP("Category", "企业登记"),
        QT_TRANSLATE_NOOP("Category", "其他"),
        QT_TRANSLATE_NOOP("Category", "其它"),
        QT_TRANSLATE_NOOP("Category", "户籍"),
        QT_TRANSLATE_NOOP("Category", "税务"),
        QT_TRANSLATE_NOOP("Category", "住房"),
        QT_TRANSLATE_NOOP("Category", "就业"),
        QT_TRANSLATE_NOOP("Category", "残疾人服务")
    ]
    function category(name) {
        if (name === undefined || name === null) return ""
        if (name === "-") return qsTr("未分类")
        if (name === "") return qsTr("全部")
        // config.yaml may name the matter in the language shown (read i18n.language so the
        // text follows the switch)
        var configured = i18n.language ? i18n.categoryName(name) : ""
        return configured !== "" ? configured : qsTranslate("Category", name)
    }
    function qualityLevel(level) {
        switch (level) {
        case "good": return qsTr("良好")
        case "fair": return qsTr("一般")
        case "poor": return qsTr("较差")
        default: return ""
        }
    }
    function clock(s) {
        var m = Math.floor(s / 60), r = s % 60
        return m + ":" + (r < 10 ? "0" : "") + r
    }
}
