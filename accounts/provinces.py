"""Provincial-level divisions of mainland China by their GB/T 2260 code (the first two digits of a
region code, as in positions 3-4 of a Unified Social Credit Code)."""

from django.utils.translation import gettext_lazy

PROVINCES: dict[str, str] = {
    "11": "Beijing",
    "12": "Tianjin",
    "13": "Hebei",
    "14": "Shanxi",
    "15": "Inner Mongolia",
    "21": "Liaoning",
    "22": "Jilin",
    "23": "Heilongjiang",
    "31": "Shanghai",
    "32": "Jiangsu",
    "33": "Zhejiang",
    "34": "Anhui",
    "35": "Fujian",
    "36": "Jiangxi",
    "37": "Shandong",
    "41": "Henan",
    "42": "Hubei",
    "43": "Hunan",
    "44": "Guangdong",
    "45": "Guangxi",
    "46": "Hainan",
    "50": "Chongqing",
    "51": "Sichuan",
    "52": "Guizhou",
    "53": "Yunnan",
    "54": "Tibet",
    "61": "Shaanxi",
    "62": "Gansu",
    "63": "Qinghai",
    "64": "Ningxia",
    "65": "Xinjiang",
}

# Shown in the reader's language (the names are in the catalogue); PROVINCES stays English for codes
# and system account names.
PROVINCE_CHOICES = [(code, gettext_lazy(name)) for code, name in sorted(PROVINCES.items())]
