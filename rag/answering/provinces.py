"""China's province-level abbreviations (沪苏浙皖), shared by the constraint check, the slot check
and the list check."""

from __future__ import annotations

import re

PROVINCE_ABBREVIATIONS = {
    "北京": "京", "天津": "津", "河北": "冀", "山西": "晋", "辽宁": "辽", "吉林": "吉", "上海": "沪",
    "江苏": "苏", "浙江": "浙", "安徽": "皖", "福建": "闽", "江西": "赣", "山东": "鲁", "河南": "豫",
    "湖北": "鄂", "湖南": "湘", "广东": "粤", "广西": "桂", "海南": "琼", "重庆": "渝", "四川": "川",
    "贵州": "黔", "云南": "滇", "陕西": "陕", "甘肃": "甘", "青海": "青", "宁夏": "宁", "新疆": "新",
}  # fmt: skip
PROVINCE_ABBREVIATION_CHARS = "".join(PROVINCE_ABBREVIATIONS.values())
# A single character matches too much on its own, so one counts only inside a run of two or more
# of them ("沪苏浙皖", "苏浙皖三省").
ABBREVIATION_RUN = re.compile(f"[{PROVINCE_ABBREVIATION_CHARS}]{{2,}}")
