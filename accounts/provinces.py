"""Provincial-level divisions of mainland China by their GB/T 2260 code (the first two digits of a
region code, as in positions 3-4 of a Unified Social Credit Code). The names are English (data, such
as the provincial accounts' names); `province_name` gives a name in the request's language."""

from django.utils.translation import gettext, gettext_lazy, gettext_noop

PROVINCES: dict[str, str] = {
    "11": gettext_noop("Beijing"),
    "12": gettext_noop("Tianjin"),
    "13": gettext_noop("Hebei"),
    "14": gettext_noop("Shanxi"),
    "15": gettext_noop("Inner Mongolia"),
    "21": gettext_noop("Liaoning"),
    "22": gettext_noop("Jilin"),
    "23": gettext_noop("Heilongjiang"),
    "31": gettext_noop("Shanghai"),
    "32": gettext_noop("Jiangsu"),
    "33": gettext_noop("Zhejiang"),
    "34": gettext_noop("Anhui"),
    "35": gettext_noop("Fujian"),
    "36": gettext_noop("Jiangxi"),
    "37": gettext_noop("Shandong"),
    "41": gettext_noop("Henan"),
    "42": gettext_noop("Hubei"),
    "43": gettext_noop("Hunan"),
    "44": gettext_noop("Guangdong"),
    "45": gettext_noop("Guangxi"),
    "46": gettext_noop("Hainan"),
    "50": gettext_noop("Chongqing"),
    "51": gettext_noop("Sichuan"),
    "52": gettext_noop("Guizhou"),
    "53": gettext_noop("Yunnan"),
    "54": gettext_noop("Tibet"),
    "61": gettext_noop("Shaanxi"),
    "62": gettext_noop("Gansu"),
    "63": gettext_noop("Qinghai"),
    "64": gettext_noop("Ningxia"),
    "65": gettext_noop("Xinjiang"),
}

PROVINCE_CHOICES = sorted((code, gettext_lazy(name)) for code, name in PROVINCES.items())


def province_name(code: str | None) -> str:
    """The province's name in the active language (the code itself if it is not a province's)."""
    name = PROVINCES.get(code or "")
    return gettext(name) if name else (code or "")
