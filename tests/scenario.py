"""A small hand-computed scenario: two Franklin Counties, one policy change, every custody edge.

On 2019-06-01 nc-franklin (declines since 2019-01-01) holds exactly p1, p2 and p8.
"""

from __future__ import annotations

from tests.pkg import base_places

AS_OF = "2019-06-01"

# Invented names that must never reach a public output.
NAMES = {
    "p1": ("Quillon Varstrade", "1980-02-03"),
    "p2": ("Dorabel Henquist", "1975-07-19"),
    "p3": ("Yusmeri Talavek", "1991-11-30"),
    "p8": ("Bexander Olumquist", "1988-04-12"),
}


def scenario() -> dict[str, list[dict]]:
    files = base_places()
    people = []
    for pid, citizenship in [("p1", "Mexico"), ("p2", "Honduras"), ("p3", "Guatemala"), ("p4", "India"),
                             ("p5", "Mexico"), ("p6", "El Salvador"), ("p7", "Mexico"), ("p8", "Brazil")]:
        name, dob = NAMES.get(pid, (None, None))
        people.append({"person_id": pid, "birth_year": dob[:4] if dob else None, "sex": "M",
                       "citizenship": citizenship, "name": name, "date_of_birth": dob})
    nc, oh = "nc-franklin-jail", "oh-franklin-jail"
    files["people.csv"] = people
    files["bookings.csv"] = [
        {"booking_id": "b1", "person_id": "p1", "facility_id": nc, "booked_on": "2019-05-01"},
        {"booking_id": "b2", "person_id": "p2", "facility_id": nc, "booked_on": "2018-11-01"},
        # released on the as-of day: not held that day
        {"booking_id": "b3", "person_id": "p3", "facility_id": nc, "booked_on": "2019-05-01",
         "released_on": AS_OF, "release_reason": "bond"},
        {"booking_id": "b4", "person_id": "p4", "facility_id": nc, "booked_on": "2019-04-01"},
        {"booking_id": "b5", "person_id": "p5", "facility_id": nc, "booked_on": "2019-05-20"},
        {"booking_id": "b6", "person_id": "p6", "facility_id": oh, "booked_on": "2019-05-01"},
        # released the day after: held on the as-of day
        {"booking_id": "b8", "person_id": "p8", "facility_id": nc, "booked_on": "2019-05-15",
         "released_on": "2019-06-02", "release_reason": "to_ice"},
    ]
    files["charges.csv"] = [
        {"charge_id": "c1", "booking_id": "b1", "description": "AGG SEXUAL ASSLT CHILD", "level": "felony",
         "stage": "pending"},
        {"charge_id": "c2", "booking_id": "b1", "description": "DWI", "stage": "convicted"},
        {"charge_id": "c3", "booking_id": "b2", "description": "MURDER", "stage": "pending"},
        {"charge_id": "c4", "booking_id": "b3", "description": "LARCENY", "stage": "pending"},
        {"charge_id": "c8a", "booking_id": "b8", "description": "ICE DETAINER", "code": "4200"},
        {"charge_id": "c8b", "booking_id": "b8", "description": "POSS MARIJ <2OZ", "stage": "convicted"},
    ]
    files["detainers.csv"] = [
        {"detainer_id": "d1", "person_id": "p1", "facility_id": nc, "lodged_on": "2019-05-02", "booking_id": "b1",
         "form": "I-247A"},
        # no booking id: matched to b2; lodged while the county still honoured detainers
        {"detainer_id": "d2", "person_id": "p2", "facility_id": nc, "lodged_on": "2018-11-05", "form": "I-247A"},
        {"detainer_id": "d3", "person_id": "p3", "facility_id": nc, "lodged_on": "2019-05-02", "booking_id": "b3"},
        # lifted before the as-of day while still held
        {"detainer_id": "d4", "person_id": "p4", "facility_id": nc, "lodged_on": "2019-04-02", "booking_id": "b4",
         "lifted_on": "2019-05-15", "lift_reason": "Lifted"},
        # lodged after the as-of day
        {"detainer_id": "d5", "person_id": "p5", "facility_id": nc, "lodged_on": "2019-06-02", "booking_id": "b5"},
        # the other Franklin County honours detainers: never in a report on declining jurisdictions
        {"detainer_id": "d6", "person_id": "p6", "facility_id": oh, "lodged_on": "2019-05-02", "booking_id": "b6"},
        # no booking at all: kept, reported, not counted as held
        {"detainer_id": "d7", "person_id": "p7", "facility_id": nc, "lodged_on": "2019-05-10"},
        {"detainer_id": "d8", "person_id": "p8", "facility_id": nc, "lodged_on": "2019-05-16", "booking_id": "b8",
         "outcome": "declined"},  # the source's claim; the records say honored
    ]
    return files
