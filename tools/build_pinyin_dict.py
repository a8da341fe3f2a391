"""Build the pinyin input dictionary shipped with the form-filling plugin (S3).

Reads the character readings of ``pypinyin`` and the word frequencies of ``jieba``'s dictionary
(both on PyPI: ``pip install -e '.[pinyin-data]'``), adds the place names of the plugin's region
data, and writes ``plugins/form_filling/data/pinyin.tsv.gz``: one line per syllable sequence,
``syllables<TAB>word word ...`` with the candidates in descending frequency. Run it again only
when the sources change; the workstation itself needs neither package.

    .venv/bin/python tools/build_pinyin_dict.py
"""

from __future__ import annotations

import gzip
import os
import re
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "plugins" / "form_filling" / "data" / "pinyin.tsv.gz"
REGIONS = ROOT / "plugins" / "form_filling" / "data" / "regions.toml"
MAX_WORDS = 45_000  # the most frequent words of 2-4 characters
HAN = re.compile(r"^[\u4e00-\u9fff]+$")
# the commonest surnames come first under their sound: names are what citizens type most
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
            "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹"
            "薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")


def _gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def main() -> None:
    import jieba
    from pypinyin import Style, lazy_pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    freq: dict[str, int] = {}
    with open(os.path.join(os.path.dirname(jieba.__file__), "dict.txt"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and HAN.match(parts[0]):
                freq[parts[0]] = int(parts[1])
    table: dict[str, dict[str, int]] = defaultdict(dict)

    def add(key: str, word: str, weight: int) -> None:
        old = table[key].get(word, -1)
        table[key][word] = max(old, weight)

    # single characters: every GB2312 character, plus the rarer ones jieba knows (names)
    from pypinyin import pinyin as _pinyin

    for code in pinyin_dict:
        ch = chr(code)
        common = _gb2312(ch)
        if not HAN.match(ch) or not (common or ch in freq):
            continue
        # characters outside GB2312 (rare name characters, traditional forms) come after the
        # common ones; a character's other readings rank far below its main one
        weight = freq.get(ch, 0) if common else freq.get(ch, 0) // 10**6
        readings = _pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
        for i, reading in enumerate(readings):
            if reading.isascii() and reading.isalpha():
                boost = 4 if ch in SURNAMES and i == 0 else 1
                add(reading, ch, weight * boost if i == 0 else weight // 100)
    words = sorted((w for w in freq if 2 <= len(w) <= 4), key=lambda w: -freq[w])[:MAX_WORDS]
    for w in words:
        syl = lazy_pinyin(w, style=Style.NORMAL, v_to_u=False)
        if len(syl) == len(w) and all(s.isascii() and s.isalpha() for s in syl):
            add(" ".join(syl), w, freq[w])
    # the place names of the region pickers, ahead of common words with the same sound
    regions = tomllib.loads(REGIONS.read_text(encoding="utf-8"))
    names: set[str] = set()
    for street in regions["street"]:
        names.add(street["name"])
        names.update(street["communities"])
    for n in list(names):
        for suffix in ("街道", "镇", "乡", "社区", "村", "办事处"):
            if n.endswith(suffix) and len(n) > len(suffix) + 1:
                names.add(n[: -len(suffix)])
    names.update(("赤壁", "赤壁市", "咸宁", "咸宁市", "湖北", "湖北省", "蒲圻"))
    for n in names:
        syl = lazy_pinyin(n, style=Style.NORMAL)
        if len(syl) == len(n):
            add(" ".join(syl), n, 10**7)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        for key in sorted(table):
            ranked = sorted(table[key].items(), key=lambda kv: (-kv[1], kv[0]))
            out.write(key + "\t" + " ".join(w for w, _ in ranked) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(table)} keys, {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
