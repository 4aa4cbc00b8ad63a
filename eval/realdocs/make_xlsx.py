"""Build an .xlsx workbook from the real tables of a Debian Reference HTML chapter.

Usage: /usr/bin/python3 make_xlsx.py SRC.html OUT.xlsx
(needs Debian's python3-lxml and python3-openpyxl). One sheet per <div class="table">:
the sheet is named after the table number ("Table 9.1"), row 1 holds the caption,
then the header row and the body rows, cell text exactly as in the HTML.
"""

import re
import sys

import lxml.html
import openpyxl


def text(el):
    return re.sub(r"\s+", " ", el.text_content()).strip()


def main(src, out):
    doc = lxml.html.parse(src).getroot()
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for div in doc.xpath('//div[@class="table"]'):
        title = div.xpath('./p[@class="title"]')
        caption = text(title[0]) if title else ""
        m = re.match(r"(Table [\d.]+)", caption)
        name = (m.group(1) if m else caption)[:31] or f"Sheet{len(wb.sheetnames) + 1}"
        ws = wb.create_sheet(name)
        ws.append([caption])
        for tr in div.xpath(".//tr"):
            ws.append([text(c) for c in tr.xpath("./th|./td")])
    wb.save(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
