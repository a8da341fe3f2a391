"""The sandbox's synthetic world: valid numbers, plausible data, determinism, fixtures."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter

import pytest

from sandbox.world import DEFAULT_SEED, PERSON_LICENCE_TYPES, REFERENCE_DATE, World, build_world
from workstation.services.identity import (
    parse_credit_code,
    parse_id_number,
    validate_credit_code,
    validate_id_number,
    validate_person_name,
)
from workstation.services.licence_ids import parse_licence_id
from workstation.services.model import LICENCE_TYPES, HolderKind


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


def test_reference_vectors_remain_valid():
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    assert validate_credit_code("91350100M000100Y43") == "91350100M000100Y43"


def test_world_size(world):
    assert len(world.citizens) >= 500
    assert len(world.enterprises) >= 100


def test_build_is_fast():
    started = time.perf_counter()
    build_world(DEFAULT_SEED + 1)
    assert time.perf_counter() - started < 1.0


def test_same_seed_gives_an_equal_world_and_another_seed_does_not(world):
    again = build_world(DEFAULT_SEED)
    assert again == world
    assert [lic.licence_id for lic in again.licences] == [lic.licence_id for lic in world.licences]
    assert build_world(DEFAULT_SEED + 1) != world


def test_every_id_number_is_valid_and_consistent(world):
    seen = set()
    for c in world.citizens:
        info = parse_id_number(c.id_number, today=REFERENCE_DATE)
        assert info.sex == c.sex
        assert info.birth_date == c.birth_date
        assert 1940 <= c.birth_date.year <= 2006
        assert c.id_number.startswith("42")  # Hubei
        validate_person_name(c.name)
        assert len(c.phone) == 11 and c.phone.startswith("1")
        assert c.address.startswith("湖北省")
        seen.add(c.id_number)
    assert len(seen) == len(world.citizens)
    sexes = Counter(c.sex for c in world.citizens)
    assert sexes["男"] > 150 and sexes["女"] > 150


def test_every_credit_code_is_valid_with_a_consistent_organisation_code(world):
    codes = [e.credit_code for e in world.enterprises] + [a.credit_code for a in world.authorities]
    for code in codes:
        assert parse_credit_code(code).warnings == ()
    assert len(set(codes)) == len(codes)
    for e in world.enterprises:
        assert e.credit_code.startswith("91421281")
        assert e.name.startswith("赤壁市") and e.name.endswith("公司")
        assert len(e.industry_code) == 5 and e.industry_code[0].isalpha()
        rep = world.citizen(e.legal_rep_id)
        assert rep is not None and rep.name == e.legal_rep_name
        assert e.founded_on >= dt.date(1998, 1, 1)
        assert rep.age_on(e.founded_on) >= 20
    assert len({e.name for e in world.enterprises}) == len(world.enterprises)


def test_licence_identifiers_are_valid_unique_and_name_their_issuer(world):
    authorities = {a.credit_code: a.name for a in world.authorities}
    ids = set()
    for lic in world.licences:
        parts = parse_licence_id(lic.licence_id)
        assert parts is not None, lic.licence_id
        assert parts.type_code == LICENCE_TYPES[lic.type_key].type_code
        assert parts.issuer_code == lic.issuer_code
        assert authorities[lic.issuer_code] == lic.issuer
        assert lic.holder_kind is LICENCE_TYPES[lic.type_key].holder_kind
        assert lic.valid_from <= (lic.valid_until or dt.date.max)
        ids.add(lic.licence_id)
    assert len(ids) == len(world.licences)


def test_licence_coverage(world):
    adults = world.citizens  # everyone is born 1940-2006, so an adult in 2026
    has = {t: sum(1 for c in adults if world.licence_of(c.id_number, t)) / len(adults)
           for t in PERSON_LICENCE_TYPES}
    assert has["id_card"] == 1.0
    assert has["social_security_card"] == 1.0
    assert 0.85 <= has["household_register"] < 1.0
    assert 0.5 <= has["marriage_cert"] <= 0.7
    assert 0.3 <= has["property_cert"] <= 0.5
    for e in world.enterprises:
        assert [lic.type_key for lic in world.licences_of(e.credit_code)] == ["business_licence"]


def test_marriage_certificates_are_paired(world):
    for c in world.citizens:
        cert = world.licence_of(c.id_number, "marriage_cert")
        if cert is None:
            continue
        spouse = world.citizen(cert.fields["配偶身份证号"])
        assert spouse is not None and spouse.name == cert.fields["配偶姓名"]
        assert spouse.sex != c.sex
        other = world.licence_of(spouse.id_number, "marriage_cert")
        assert other is not None
        assert other.fields["结婚证字号"] == cert.fields["结婚证字号"]
        assert other.fields["配偶身份证号"] == c.id_number
        assert other.status == cert.status
        if cert.status == "valid":
            assert c.spouse_id == spouse.id_number


def test_field_data_matches_the_holder(world):
    for lic in world.licences:
        f = lic.fields
        holder = world.holder(lic.holder_id)
        assert holder is not None and holder.name == lic.holder_name
        match lic.type_key:
            case "id_card":
                assert f["公民身份号码"] == lic.holder_id and f["姓名"] == lic.holder_name
                assert f["性别"] == holder.sex
                start, _, end = f["有效期限"].partition("-")
                assert start == lic.valid_from.strftime("%Y.%m.%d")
                assert end == ("长期" if lic.valid_until is None
                               else lic.valid_until.strftime("%Y.%m.%d"))
                for key in ("民族", "出生", "住址", "签发机关"):
                    assert f[key]
            case "social_security_card":
                assert f["社会保障号码"] == lic.holder_id
                assert len(f["卡号"]) == 9 and lic.valid_until is not None
            case "household_register":
                assert f["公民身份号码"] == lic.holder_id and len(f["户号"]) == 9
                assert f["与户主关系"] and f["户主姓名"]
            case "property_cert":
                assert f["权利人"] == lic.holder_name and f["不动产权证号"].startswith("鄂(")
                assert len(f["不动产单元号"]) == 28 and "㎡" in f["面积"]
            case "marriage_cert":
                assert f["持证人"] == lic.holder_name and f["身份证件号"] == lic.holder_id
            case "business_licence":
                assert f["统一社会信用代码"] == lic.holder_id and f["名称"] == lic.holder_name
                assert f["法定代表人"] == holder.legal_rep_name
                assert f["注册资本"].endswith("万元整") and f["登记机关"]


def test_some_licences_are_expired_or_revoked(world):
    statuses = Counter((lic.type_key, lic.status) for lic in world.licences)
    assert statuses[("id_card", "expired")] >= 3
    assert statuses[("business_licence", "revoked")] >= 1
    assert statuses[("marriage_cert", "revoked")] >= 1
    bad = sum(n for (_, status), n in statuses.items() if status != "valid")
    assert bad < len(world.licences) * 0.05  # a few, not many
    for lic in world.licences:
        if lic.status == "expired":
            assert lic.valid_until is not None and lic.valid_until < world.as_of


def test_well_known_fixtures(world):
    everything = world.person_with_all_licences
    assert {lic.type_key for lic in world.licences_of(everything.id_number)
            if lic.status == "valid"} == set(PERSON_LICENCE_TYPES)
    assert world.sample_person(0) == everything

    plain = world.person_without_marriage_or_property
    types = {lic.type_key for lic in world.licences_of(plain.id_number)}
    assert types == {"id_card", "social_security_card", "household_register"}
    assert world.sample_person(1) == plain

    husband, wife = world.married_couple
    assert husband.spouse_id == wife.id_number and wife.spouse_id == husband.id_number

    assert world.licence_of(world.person_with_expired_id_card.id_number,
                            "id_card").status == "expired"
    assert world.revoked_licence.status == "revoked"
    revoked = world.enterprise_with_revoked_licence
    assert world.licence_of(revoked.credit_code, "business_licence").status == "revoked"
    assert revoked not in world.sample_enterprises
    assert world.sample_enterprise(0).kind is HolderKind.ENTERPRISE
    assert len(world.sample_people) > 400


def test_lookups(world):
    person = world.sample_person(2)
    assert world.holder(person.id_number.lower()) == person
    assert world.holder_name(person.id_number) == person.name
    assert world.enterprise(person.id_number) is None
    assert world.holder("110105194912310021") is None
    assert world.licences_of(person.id_number, ["business_licence"]) == []
    lic = world.licences_of(person.id_number)[0]
    assert world.licence(lic.licence_id) == lic
