"""DBF encoding: .cpg handling, detection without .cpg, and refusal to return mojibake.

Fixture shapefiles are written by GDAL (through geopandas/pyogrio) in the legacy encodings
seen in Russian and Chinese national data; the expected text is the Python string that was
written, and the expected raw bytes are ``str.encode(codec)``, both independent of the code
under test. One DBF is assembled byte by byte from the dBase III layout to test the header
parser on a file GDAL did not write.
"""

from __future__ import annotations

import struct
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from tbpa.errors import EncodingError, TbpaWarning
from tbpa.io import detect_dbf_encoding, read_vector
from tbpa.io.encoding import choose_encoding, codec_from_cpg, dbf_text_values, score_encodings

RU = ["Кедровая Падь", "Государственный природный заповедник «Кедровая Падь»",
      "Хасанский природный парк", "Земля леопарда"]
ZH = ["珲春东北虎国家级自然保护区", "汪清国家级自然保护区", "长白山", "兴凯湖国家级自然保护区"]


def _write(tmp_path: Path, names, encoding: str, *, keep_cpg: bool = False, stem="layer") -> Path:
    gdf = gpd.GeoDataFrame(
        {"NAME": names, "CODE": [f"A{i}" for i in range(len(names))]},
        geometry=[box(130 + i, 42, 130.5 + i, 42.5) for i in range(len(names))],
        crs="EPSG:4326",
    )
    path = tmp_path / f"{stem}.shp"
    gdf.to_file(path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize(
    "names, written, expected",
    [(RU, "cp1251", "cp1251"), (ZH, "gbk", "gb18030"), (RU, "utf-8", "utf-8"), (ZH, "utf-8", "utf-8")],
)
def test_detect_without_cpg(tmp_path, names, written, expected):
    path = _write(tmp_path, names, written)
    assert not path.with_suffix(".cpg").exists()
    assert detect_dbf_encoding(path) == expected
    # and the tbpa reader decodes the text exactly (GDAL alone would return Latin-1 mojibake)
    assert read_vector(path)["NAME"].tolist() == names


def test_detect_other_russian_code_pages(tmp_path):
    # KOI8-R and DOS cp866 files still circulate in Russian archives.
    # GDAL will not write these, so the DBFs are assembled by hand (see _handmade_dbf).
    for codec, expected in (("koi8_r", "koi8-r"), ("cp866", "cp866")):
        dbf = tmp_path / f"{codec}.dbf"
        plain = [n.replace("«", '"').replace("»", '"') for n in RU]  # no guillemets there
        _handmade_dbf(dbf, [n.encode(codec) for n in plain], width=60)
        assert detect_dbf_encoding(dbf) == expected


def test_cpg_is_used_and_checked(tmp_path):
    path = _write(tmp_path, RU, "cp1251")
    path.with_suffix(".cpg").write_text("1251")  # ESRI writes bare code-page numbers
    assert detect_dbf_encoding(path) == "cp1251"
    path.with_suffix(".cpg").write_text("UTF-8")  # a .cpg that lies
    with pytest.raises(EncodingError, match=r"do not decode as utf-8.*\.cpg"):
        detect_dbf_encoding(path)
    # an explicit encoding overrides the lying .cpg
    assert read_vector(path, encoding="cp1251")["NAME"].tolist() == RU


def test_gdal_written_cpg(tmp_path):
    path = _write(tmp_path, ZH, "gbk", keep_cpg=True)
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("GBK", "936", "CP936")
    assert detect_dbf_encoding(path) == "gbk"


def test_explicit_encoding_that_fails(tmp_path):
    path = _write(tmp_path, ZH, "gbk")
    with pytest.raises(EncodingError, match="utf-8"):
        detect_dbf_encoding(path, encoding="utf-8")
    with pytest.raises(EncodingError, match="not a codec"):
        detect_dbf_encoding(path, encoding="klingon")
    assert detect_dbf_encoding(path, encoding="gb2312") == "gb2312"


def test_mixed_encodings_raise_with_scores(tmp_path):
    # Half the records cp1251, half GBK: no single codec reads the file.
    path = _write(tmp_path, ["x"] * 4, "utf-8")
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    header_len, record_len = struct.unpack("<HH", raw[8:12])
    field_len = raw[32 + 16]
    payload = [RU[0].encode("cp1251"), ZH[0].encode("gbk"), RU[2].encode("cp1251"), ZH[1].encode("gbk")]
    for i, value in enumerate(payload):
        start = header_len + i * record_len + 1
        raw[start:start + field_len] = value[:field_len].ljust(field_len, b" ")
    dbf.write_bytes(bytes(raw))
    with pytest.raises(EncodingError) as err:
        detect_dbf_encoding(path)
    msg = str(err.value)
    for text in ("layer.dbf", "utf-8=undecodable", "cp1251=", "gb18030=", "encoding=", ".cpg"):
        assert text in msg
    with pytest.raises(EncodingError):  # the reader refuses too, instead of returning mojibake
        read_vector(path)


def _handmade_dbf(path: Path, values: list[bytes], width: int = 30) -> None:
    """A dBase III file with one character field NAME, written from the format description."""
    header_len = 32 + 32 + 1
    record_len = 1 + width
    head = struct.pack("<BBBBIHH20x", 0x03, 126, 1, 1, len(values), header_len, record_len)
    field = struct.pack("<11sc4xBB14x", b"NAME", b"C", width, 0)
    body = b"".join(b" " + v.ljust(width, b" ") for v in values)
    path.write_bytes(head + field + b"\r" + body + b"\x1a")


def test_header_parser_on_handmade_dbf(tmp_path):
    values = [v.encode("cp1251") for v in RU[:1]] + [b"ASCII only", b"\x98\x98\xff\xfe\x80 bad"]
    dbf = tmp_path / "hand.dbf"
    _handmade_dbf(dbf, values)
    with open(dbf, "rb") as fh:
        assert dbf_text_values(fh) == values
    # bytes undecodable by UTF-8, cp1251 (0x98 is unassigned) and GB18030: refuse.
    with pytest.raises(EncodingError, match="cannot tell the text encoding"):
        detect_dbf_encoding(dbf)


def test_gdal_written_bytes_are_found(tmp_path):
    path = _write(tmp_path, RU, "cp1251")
    with open(path.with_suffix(".dbf"), "rb") as fh:
        values = dbf_text_values(fh)
    assert [v for v in values if not v.startswith(b"A")] == [n.encode("cp1251") for n in RU]


def test_ascii_only_is_utf8(tmp_path):
    assert detect_dbf_encoding(_write(tmp_path, ["Kedrovaya Pad", "Hunchun"], "cp1251")) == "utf-8"


def test_scores_separate_right_and_wrong_codecs():
    scores = score_encodings([n.encode("cp1251") for n in RU])
    assert scores["cp1251"] > 0.9
    assert scores["utf-8"] is None  # cp1251 Cyrillic is not valid UTF-8
    assert max(v for k, v in scores.items() if k != "cp1251" and v is not None) < 0.5
    zh = score_encodings([n.encode("gbk") for n in ZH])
    assert zh["gb18030"] > 0.9 and all(v is None or v < 0.5 for k, v in zh.items() if k != "gb18030")


def test_korean_without_cpg():
    # EUC-KR with word spaces reads as Korean; without spaces it is byte-for-byte also
    # plausible GB18030, and tbpa says so instead of guessing.
    spaced = ["두만강 하구 습지", "설악산 국립공원"]
    assert choose_encoding([v.encode("cp949") for v in spaced], where="kr.dbf") == "cp949"
    with pytest.raises(EncodingError, match="cp949"):
        choose_encoding(["설악산국립공원".encode("cp949")], where="kr.dbf")


@pytest.mark.parametrize(
    "cpg, codec",
    [("1251", "cp1251"), ("ANSI 1251", "cp1251"), ("CP1251", "cp1251"), ("UTF-8", "utf-8"),
     ("65001", "utf-8"), ("GBK", "gbk"), ("936", "gbk"), ("GB2312", "gbk"), ("GB18030", "gb18030"),
     ("866", "cp866"), ("KOI8-R", "koi8_r"), ("ISO-8859-1", "latin-1"), ("1252", "cp1252"),
     ("no such thing", None)],
)
def test_codec_from_cpg(cpg, codec):
    assert codec_from_cpg(cpg) == codec


def test_unknown_cpg_falls_back_to_detection(tmp_path):
    path = _write(tmp_path, RU, "cp1251")
    path.with_suffix(".cpg").write_text("SOMETHING ODD")
    with pytest.warns(TbpaWarning, match="SOMETHING ODD"):
        assert detect_dbf_encoding(path) == "cp1251"


def test_utf8_cut_by_field_width_is_forgiven_only_at_the_end(tmp_path):
    # Writers truncate at the field's byte width and may split the last UTF-8 character
    # (GDAL/pyogrio alone then fail on the whole file).
    path = _write(tmp_path, ["placeholder"] * 2, "utf-8", keep_cpg=True)
    dbf = path.with_suffix(".dbf")
    raw = bytearray(dbf.read_bytes())
    header_len, record_len = struct.unpack("<HH", raw[8:12])
    width = raw[32 + 16]
    value = ("x" + "Кедровая Падь " * 20).encode("utf-8")[:width]
    with pytest.raises(UnicodeDecodeError):
        value.decode("utf-8")  # the fixture really splits a character
    raw[header_len + 1:header_len + 1 + width] = value
    dbf.write_bytes(bytes(raw))
    assert detect_dbf_encoding(path) == "utf-8"
    with pytest.warns(TbpaWarning, match="1 text value"):
        names = read_vector(path)["NAME"].tolist()
    assert names == [value[:-1].decode("utf-8"), "placeholder"]
    # a bad byte in the middle of a value is not truncation: refuse
    raw[header_len + 1 + 5] = 0xFF
    dbf.write_bytes(bytes(raw))
    with pytest.raises(EncodingError):
        read_vector(path)
