"""Word lists for the synthetic demo workspace. Every name here is fictitious."""

GIVEN_F = (
    "Margaret Joan Patricia Dorothy Jean Barbara Sheila Eileen Brenda Maureen Pamela Irene "
    "Sylvia Doreen Valerie Audrey Elsie Gladys Edna Hilda Winifred Ivy Zoë Siobhán Aoife "
    "Małgorzata Renée Chloë Priya Sunita Amira Fatima Grace Hannah Ruth Mary Ann Elizabeth "
    "Olwen Bronwen Niamh Agnieszka Kamala Dolores Beatriz"
).split()
GIVEN_M = (
    "John David Peter Michael Brian Alan Kenneth Derek Colin Roy Ronald Dennis Stanley Arthur "
    "Albert Harold Leonard Frank Geoffrey Raymond Gordon Łukasz Seán Ciarán Søren José "
    "Rajesh Mohammed Tariq Kwame Samuel Joseph William Thomas George Edward Henry Hemant "
    "Dariusz Bogdan Emeka"
).split()
FAMILY = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans "
    "Walker White Roberts Green Hall Wood Jackson Clarke Patel Khan Hughes Edwards Turner "
    "Ó'Brien-Łukasz Nowak Kowalczyk Murphy O'Sullivan Müller Gurung Thapa Shrestha "
    "Okafor Mensah Begum Hussain Ahmed Kaur Singh Sharma Fernández Lefèvre Wiśniewska Harrison "
    "Mitchell Chapman Fletcher Barker Cooper Marsh Pritchard Lloyd Hammond Goodwin"
).split() + ["Ní Bhriain"]
STAFF_GIVEN = (
    "Amelia Ben Chris Dana Eve Femi Gita Harry Isla Jack Kiran Lena Mo Nia Owen Pia".split()
)
STAFF_FAMILY = (
    "Ashdown Bellamy Carrow Dunmore Ellery Fairbank Garside Hartnell Ingram Jessop".split()
)

LTCS = (
    "COPD",
    "Heart failure",
    "Type 2 diabetes",
    "Dementia",
    "Atrial fibrillation",
    "Chronic kidney disease",
    "Hypertension",
    "Osteoarthritis",
    "Parkinson's disease",
    "Depression",
    "Asthma",
    "Stroke (previous)",
)

COMMUNICATION_NEEDS = (
    "",
    "",
    "",
    "Hard of hearing - face the person and speak clearly",
    "Prefers large print",
    "Interpreter needed (Nepali)",
    "Interpreter needed (Polish)",
    "Cognitive impairment - involve carer in conversations",
    "Uses hearing aids",
)

# The structured need (Accessible Information Standard code) each free-text need records.
INFORMATION_NEEDS = {
    "Prefers large print": "large_print",
    "Interpreter needed (Nepali)": "spoken_interpreter",
    "Interpreter needed (Polish)": "spoken_interpreter",
}

CARER_RELATIONSHIPS = ("Daughter", "Son", "Wife", "Husband", "Neighbour", "Niece", "Partner")

ABOUT_ME = (
    "I have lived in this house for forty years and want to stay here.",
    "I used to be a bus driver and I still like to know what is going on in town.",
    "My garden matters to me; I grow tomatoes every summer.",
    "I look after my cat, Biscuit, and she keeps me company.",
    "I enjoy the lunch club on Thursdays when I can get there.",
)
WHAT_MATTERS = (
    "Staying at home and not going back into hospital.",
    "Being able to get to church on Sundays.",
    "Seeing my grandchildren.",
    "Not being a burden on my daughter.",
    "Being comfortable and free of pain.",
)
GOALS = (
    ("I want to walk to the corner shop on my own again.", "Walks 200 m with a frame"),
    ("I want fewer chest infections this winter.", "No more than one exacerbation by March"),
    ("I want to manage my tablets myself.", "Uses blister pack without prompts for 4 weeks"),
    ("I want to feel less lonely.", "Attends lunch club weekly"),
    ("I want to sleep through the night.", "Wakes no more than once a night"),
    ("I want to stop falling.", "No falls in 3 months"),
    ("I want my daughter to get a break.", "Respite arranged monthly"),
)
ACTIONS = (
    ("District nursing review of leg ulcer dressing", "district_nurse"),
    ("Medication review and blister pack", "clinical_pharmacist"),
    ("Refer to falls prevention class", "physio_ot"),
    ("Link with befriending service", "social_prescriber"),
    ("Care needs assessment", "social_worker"),
    ("Review breathlessness rescue pack", "gp"),
    ("Carer's assessment offered", "care_coordinator"),
    ("Memory clinic follow-up", "mental_health_practitioner"),
)
CONTINGENCY = (
    "If more breathless than usual: use rescue pack as agreed, then call the INT on the team "
    "number. If chest pain or blue lips: call 999.",
    "If a fall with no injury: help up if safe, call the INT the same day. If unable to get up "
    "or injured: call 999.",
    "If confused or agitated more than usual: check for infection signs, call the GP practice.",
)
CONTACT_TEXT = {
    "home_visit": (
        "Home visit: observations stable, dressing changed.",
        "Home visit: reviewed mobility, frame in use.",
        "Home visit: medication prompt chart checked.",
    ),
    "phone_call": ("Phone call: feeling better this week.", "Phone call: appointment confirmed."),
    "carer_call": (
        "Carer call: carer reports poorer sleep; plan updated.",
        "Carer call: carer needs respite; referral discussed.",
    ),
    "note": ("Note: discharge summary received.", "Note: letter from respiratory clinic filed."),
}
TASKS = (
    "Arrange bloods before next review",
    "Chase equipment delivery (perching stool)",
    "Book medication review",
    "Call carer to confirm respite dates",
    "Check discharge medications against GP list",
    "Update contingency plan with rescue pack details",
)
ESCALATIONS = (
    "Rapid decline over two weeks; team unsure whether to pursue admission avoidance or hospital.",
    "Safeguarding concern raised by visiting carer.",
    "Disagreement about capacity to decide on care home move.",
)
