#!/bin/sh
# Regenerate reference/<file>.txt for every file in files/ with independent tools:
#   pdf                          -> pdftotext FILE -          (poppler-utils, no -layout)
#   html/docx/odt/epub/md        -> pandoc FILE -t plain --wrap=none
#   pptx (pandoc 2.17 can't read it) -> text of <a:t> runs, one paragraph a line, slide by slide
#   csv                          -> rows parsed with Python's csv module, cells joined with tabs
#   xlsx                         -> openpyxl (read side), "# <sheet>" line, then rows with tabs
set -eu
cd "$(dirname "$0")"
mkdir -p reference
for f in files/*; do
  b=$(basename "$f"); out="reference/$b.txt"
  case "$b" in
    *.pdf) pdftotext "$f" "$out" ;;
    *.html|*.docx|*.odt|*.epub|*.md) pandoc "$f" -t plain --wrap=none -o "$out" 2>/dev/null ;;
    *.pptx) /usr/bin/python3 - "$f" > "$out" <<'PY'
import re, sys, zipfile
import xml.etree.ElementTree as ET
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
z = zipfile.ZipFile(sys.argv[1])
slides = sorted((n for n in z.namelist() if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                key=lambda n: int(re.findall(r"\d+", n)[-1]))
for n in slides:
    root = ET.fromstring(z.read(n))
    for p in root.iter(A + "p"):
        t = "".join(r.text or "" for r in p.iter(A + "t"))
        if t.strip():
            print(t)
    print()
PY
    ;;
    *.csv) /usr/bin/python3 -c 'import csv,sys
for row in csv.reader(open(sys.argv[1], newline="", encoding="utf-8")): print("\t".join(row))' "$f" > "$out" ;;
    *.xlsx) /usr/bin/python3 -c 'import openpyxl,sys
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
for ws in wb:
    print("# " + ws.title)
    for row in ws.iter_rows(values_only=True):
        print("\t".join("" if v is None else str(v) for v in row))
    print()' "$f" > "$out" ;;
    *) echo "no reference rule for $b" >&2 ;;
  esac
done
