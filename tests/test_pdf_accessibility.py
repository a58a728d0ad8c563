"""Tagged PDF/UA-1 documents, checked with tools nobody here wrote (poppler's pdfinfo and
pdftotext, qpdf, pikepdf): the professional, carer and large-print carer copies of a long plan
for Zoë Ó'Brien-Łukasz, a huddle agenda and minutes, and every file of a cohort batch export,
all made through the services a user's click runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from int_desk.domain.care_plan import Variant
from int_desk.domain.nhs_number import format_nhs
from int_desk.domain.vocab import HuddleStatus, Role
from int_desk.services import care_plan_export as ex
from int_desk.services import huddle_export
from int_desk.services.identity import current_actor
from int_desk.store.models import Huddle
from int_desk.store.workspace import Workspace
from tests.conftest import PASSPHRASE
from tests.helpers import pdf_ua
from tests.helpers.care_plan_cohort import cohort_with_shareable_plans
from tests.helpers.care_plan_data import (
    NON_ASCII_FAMILY,
    NON_ASCII_GIVEN,
    NON_ASCII_NAME,
    TODAY,
    actor_with_role,
    make_signed_plan,
    patient_without_plan,
)

DOCUMENTS = ("professional", "carer", "large_print", "override", "agenda", "minutes", "batch")


@pytest.fixture(scope="module")
def docs(demo_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Every kind of document, made once for this module from a private demo copy."""
    root = tmp_path_factory.mktemp("tagged")
    shutil.copytree(demo_template, root / "ws")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INT_DESK_HOME", str(root / "home"))
        with Workspace.open(root / "ws", PASSPHRASE, use_keyring=False) as ws:
            yield _make_documents(ws, root)


def _make_documents(ws: Workspace, out: Path) -> dict:
    files: dict[str, Path] = {}
    with ws.session() as s:
        lead = actor_with_role(s, Role.CLINICAL_LEAD)
        patient = patient_without_plan(s)
        patient.given_name, patient.family_name = NON_ASCII_GIVEN, NON_ASCII_FAMILY
        plan = make_signed_plan(s, lead, patient, goals=12, actions=45, long_text=True)
        nhs = patient.nhs_number
        declined = make_signed_plan(s, lead, patient_without_plan(s), consent="deny")
    for variant in Variant:
        with ws.session() as s:
            lead = actor_with_role(s, Role.CLINICAL_LEAD)
            files[variant.value] = ex.export_plan(
                session=s,
                actor=lead,
                plan_id=plan.id,
                out=out / f"{variant.value}.pdf",
                variant=variant,
                today=TODAY,
            ).path
    with ws.session() as s:
        files["large_print"] = ex.export_plan(
            session=s,
            actor=actor_with_role(s, Role.CLINICAL_LEAD),
            plan_id=plan.id,
            out=out / "large-print.pdf",
            variant=Variant.CARER,
            large_print=True,
            today=TODAY,
        ).path
    with ws.session() as s:  # shared without consent: the override panel comes first
        files["override"] = ex.export_plan(
            session=s,
            actor=actor_with_role(s, Role.CLINICAL_LEAD),
            plan_id=declined.id,
            out=out / "override.pdf",
            variant=Variant.CARER,
            large_print=True,
            override_reason="Emergency admission to a care home tonight; staff need the plan.",
            today=TODAY,
        ).path
    with ws.session() as s:
        me = current_actor(s)
        team_id = next(iter(me.team_ids))
        _, files["agenda"] = huddle_export.export_computed_agenda(
            session=s, actor=me, team_id=team_id, on=TODAY, path=out / "agenda.pdf"
        )
        closed = s.scalars(
            select(Huddle.id)
            .where(Huddle.team_id == team_id, Huddle.status == HuddleStatus.CLOSED.value)
            .order_by(Huddle.scheduled_at.desc())
        ).first()
        assert closed is not None
        files["minutes"] = huddle_export.export_minutes(
            session=s, actor=me, huddle_id=closed, path=out / "minutes.pdf"
        )
    cohort_id, expected = cohort_with_shareable_plans(ws)
    with ws.session() as s:
        batch = ex.export_cohort(
            session=s,
            actor=current_actor(s),
            cohort_id=cohort_id,
            out_dir=out / "batch",
            today=TODAY,
            workers=1,
        )
    assert len(batch.written) == expected >= 5
    files["batch"] = batch.written[0]
    return {"files": files, "batch": batch.written, "nhs": nhs}


@pytest.fixture(scope="module")
def trees(docs: dict) -> dict[str, pdf_ua.Node]:
    return {name: pdf_ua.struct_tree(path) for name, path in docs["files"].items()}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_is_tagged_with_language_title_and_pdfua_metadata(docs: dict, name: str) -> None:
    path = docs["files"][name]
    assert pdf_ua.pdfinfo_tagged(path), "pdfinfo: Tagged: no"
    facts = pdf_ua.catalog_facts(path)
    assert facts["struct_tree_root"] and facts["marked"]
    assert facts["lang"] == "en-GB"
    assert facts["display_doc_title"]  # the window shows the title, not the file name
    assert facts["info_title"] and facts["xmp_title"] == facts["info_title"]
    assert facts["pdfua_part"] == "1" and facts["metadata_stream"]
    assert facts["pages_with_struct_parents"] == facts["pages"]


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_mark_on_every_page_is_tagged_content_or_an_artifact(docs: dict, name: str) -> None:
    assert pdf_ua.untagged_marks(docs["files"][name]) == []


def test_every_file_of_a_batch_export_is_tagged(docs: dict) -> None:
    for path in docs["batch"]:
        assert pdf_ua.pdfinfo_tagged(path), path.name
        assert pdf_ua.untagged_marks(path) == [], path.name


@pytest.mark.parametrize("name", DOCUMENTS)
def test_qpdf_check_is_clean(docs: dict, name: str) -> None:
    result = pdf_ua.qpdf_check(docs["files"][name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No syntax or stream encoding errors" in result.stdout


@pytest.mark.parametrize("name", DOCUMENTS)
def test_headings_start_at_h1_and_never_skip_a_level(
    trees: dict[str, pdf_ua.Node], name: str
) -> None:
    levels = [level for level, _ in pdf_ua.headings(trees[name])]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in zip(levels, levels[1:], strict=False):
        assert after <= before + 1, levels


def test_headings_are_the_sections_in_the_order_printed(trees: dict[str, pdf_ua.Node]) -> None:
    got = [text for _, text in pdf_ua.headings(trees["professional"])]
    assert got == [
        "Personalised care and support plan",
        "Key information",
        "Contingency and crisis plan - what to do if things change",
        "About me (in my own words)",
        "What matters to me",
        "Goals",
        "Actions",
        "Unpaid carer's involvement",
        "Clinical summary",
        "Medicines notes",
        "Consent to share",
        "Care team and contributors",
    ]
    carer = [text for _, text in pdf_ua.headings(trees["carer"])]
    assert carer[:4] == [
        "My care and support plan",
        "Who to contact",
        "What to do if things change",
        "About me",
    ]
    assert "Clinical summary" not in carer


@pytest.mark.parametrize("name", DOCUMENTS)
def test_reading_order_is_the_visual_order(
    docs: dict, trees: dict[str, pdf_ua.Node], name: str
) -> None:
    assert pdf_ua.reading_order_gaps(docs["files"][name], trees[name]) == []


def test_tables_have_header_cells_and_a_long_table_is_one_table(
    docs: dict, trees: dict[str, pdf_ua.Node]
) -> None:
    tree = trees["professional"]
    key_info, goals, actions = tree.find("Table")
    # Key information: each label is the header of its row.
    assert all(r.items[0].role == "TH" for r in key_info.find("TR"))
    assert key_info.find("TH")[0].attrs == {"Scope": "/Row"}
    assert key_info.find("TH")[0].text() == "Named lead professional"
    # Goals: a header row of column headers, then one row per goal.
    header = [(c.text(), c.attrs.get("Scope")) for c in goals.find("TR")[0].items]
    assert header[1] == ("Goal (in the person's own words)", "/Column")
    assert len(goals.find("TR")) == 13
    # 45 actions over several pages: one table, one header row; the header repeated at the
    # top of each later page is there for the eye (pdftotext) but not a row of the table.
    rows = actions.find("TR")
    assert len(rows) == 46 and len(actions.find("TH")) == 6
    assert rows[45].items[1].text().startswith("ACTION-45 Review of mobility")
    visual = pdf_ua.run("pdftotext", "-layout", str(docs["files"]["professional"]), "-")
    assert visual.count("Action") >= 3  # the heading plus the header on 2+ pages


def test_lists_are_tagged_as_lists(trees: dict[str, pdf_ua.Node]) -> None:
    contributors = trees["professional"].find("L")
    assert contributors and contributors[-1].find("LI")
    item = contributors[-1].find("LI")[0]
    assert [k.role for k in item.items] == ["Lbl", "LBody"]
    attendees = trees["minutes"].find("L")[0]
    assert len(attendees.find("LI")) >= 2 and attendees.attrs == {"ListNumbering": "/Disc"}
    # The agenda's reasons are a list inside their table cell.
    reasons = [td for td in trees["agenda"].find("TD") if td.find("L")]
    assert reasons and all(li.find("LBody") for li in reasons[0].find("LI"))


@pytest.mark.parametrize("name", DOCUMENTS)
def test_running_headers_and_footers_are_artifacts(
    docs: dict, trees: dict[str, pdf_ua.Node], name: str
) -> None:
    tagged = " ".join(trees[name].strings())
    visual = pdf_ua.run("pdftotext", "-layout", str(docs["files"][name]), "-")
    pages = visual.count("\f")
    # Page 1's header opens the document (its title is the H1) and is tagged once; the same
    # header on later pages, the footers and page numbers are printed but never read out.
    title = pdf_ua.headings(trees[name])[0][1]
    assert visual.count(title) >= pages >= 1 and tagged.count(title) == 1
    assert "Page 1 of" in visual and "Page 1 of" not in tagged
    assert visual.count("OFFICIAL-SENSITIVE: personal") >= pages
    if name in ("large_print", "override"):  # the footer's "printed by" ends the document
        assert tagged.count("Printed by") == 1
        assert "OFFICIAL-SENSITIVE: personal" not in tagged  # in the footer only
    else:
        assert "Printed by" in visual and "Printed by" not in tagged
        assert tagged.count("OFFICIAL-SENSITIVE: personal") == 1


def test_non_ascii_name_reads_back_exactly(docs: dict, trees: dict[str, pdf_ua.Node]) -> None:
    for name in ("professional", "carer", "large_print"):
        tree = trees[name]
        assert NON_ASCII_NAME in tree.strings()  # the header's name line, exactly
        paragraphs = [p.text() for p in tree.find("P")]
        assert f"NHS number {format_nhs(docs['nhs'])}" in paragraphs
        visual = pdf_ua.run("pdftotext", str(docs["files"][name]), "-")
        assert NON_ASCII_NAME in visual


def test_wrapped_text_keeps_its_word_breaks(trees: dict[str, pdf_ua.Node]) -> None:
    # The long action texts wrap over several lines in their cells; read through the tags,
    # the words either side of each line break stay apart.
    action = trees["professional"].find("Table")[2].find("TR")[1].items[1].text()
    filler = (
        "The person would like this done in the morning, after the carer has visited, and "
        "asks that the team phone ahead because the doorbell is hard to hear."
    )
    assert filler in action
