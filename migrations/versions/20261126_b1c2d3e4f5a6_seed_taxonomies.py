"""seed taxonomies: obstacle areas and dimensions

The codes are stable identifiers used in URLs, exports and the API. The data is written
literally here (not imported from the application) so this revision never changes.

Revision ID: b1c2d3e4f5a6
Revises: aaa27065612e
Create Date: 2026-11-26 14:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b1c2d3e4f5a6"
down_revision = "aaa27065612e"
branch_labels = None
depends_on = None

obstacle_area = sa.table(
    "obstacle_area",
    sa.column("code", sa.String), sa.column("label_nl", sa.String),
    sa.column("label_en", sa.String), sa.column("description_nl", sa.Text),
    sa.column("description_en", sa.Text), sa.column("position", sa.Integer),
)
dimension = sa.table(
    "dimension",
    sa.column("code", sa.String), sa.column("label_nl", sa.String),
    sa.column("label_en", sa.String), sa.column("position", sa.Integer),
)


def upgrade():
    op.bulk_insert(obstacle_area, [
        {'code': 'kwalificeren', 'label_nl': 'Kwalificeren', 'label_en': 'Qualifying',
         'description_nl': "Wat een lerende moet beheersen: kwalificatiedossiers en keuzedelen (mbo), examenprogramma's en kerndoelen (vo), referentieniveaus (po).",
         'description_en': 'What a learner must master: qualification files and elective modules (mbo), exam programmes and core objectives (vo), reference levels (po).', 'position': 0},
        {'code': 'examineren', 'label_nl': 'Examineren', 'label_en': 'Examinations',
         'description_nl': 'Hoe en wanneer dat getoetst wordt: examenbesluiten, examencommissie, PTA, centrale examens op vaste data, eindtoets po.',
         'description_en': 'How and when that is tested: examination decrees, examination board, PTA, central exams on fixed dates, end-of-school test in po.', 'position': 1},
        {'code': 'diplomeren', 'label_nl': 'Diplomeren', 'label_en': 'Diplomas',
         'description_nl': "Wanneer een diploma mag worden uitgereikt: diploma-eisen, zak/slaagregeling, geen deeldiploma's, inschrijving per opleiding en cohort.",
         'description_en': 'When a diploma may be awarded: diploma requirements, pass/fail rules, no partial diplomas, enrolment per programme and cohort.', 'position': 2},
        {'code': 'certificeren', 'label_nl': 'Certificeren', 'label_en': 'Certification',
         'description_nl': 'Erkennen van onderdelen: mbo-certificaten, praktijkverklaring, keuzedeelcertificaten, microcredentials, vakcertificaten vo.',
         'description_en': 'Recognising parts: mbo certificates, practice statements, elective-module certificates, micro-credentials, vo subject certificates.', 'position': 3},
        {'code': 'valideren', 'label_nl': 'Valideren', 'label_en': 'Validation',
         'description_nl': 'Erkennen van eerder en informeel leren: EVC, Ervaringscertificaat, validering van leeruitkomsten, vrijstellingen.',
         'description_en': 'Recognising prior and informal learning: accreditation of prior learning, experience certificates, validation of learning outcomes, exemptions.', 'position': 4},
        {'code': 'overig', 'label_nl': 'Overig', 'label_en': 'Other',
         'description_nl': 'Alles waar scholen verder tegenaan lopen: onderwijstijd, bekostiging en teldatum, toezichtkaders, jaarklasroosters, leerlingvolgsystemen.',
         'description_en': 'Everything else: teaching-time norms, funding and count dates, inspection frameworks, year-class timetables, student information systems.', 'position': 5},
    ])
    op.bulk_insert(dimension, [
        {'code': 'doelen', 'label_nl': 'Leerdoelen (wat)', 'label_en': 'Learning goals (what)', 'position': 0},
        {'code': 'aanbod', 'label_nl': 'Leerinhoud en aanbod', 'label_en': 'Content and offering', 'position': 1},
        {'code': 'hoe', 'label_nl': 'Leeractiviteiten (hoe)', 'label_en': 'Learning activities (how)', 'position': 2},
        {'code': 'tempo', 'label_nl': 'Volgorde en tempo (wanneer)', 'label_en': 'Sequence and pace (when)', 'position': 3},
        {'code': 'plaats', 'label_nl': 'Leerplek (waar)', 'label_en': 'Place (where)', 'position': 4},
        {'code': 'samen', 'label_nl': 'Samenwerking (met wie)', 'label_en': 'Collaboration (with whom)', 'position': 5},
        {'code': 'instructie', 'label_nl': 'Instructie en begeleiding', 'label_en': 'Instruction and coaching', 'position': 6},
        {'code': 'toetsing', 'label_nl': 'Toetsing en feedback', 'label_en': 'Assessment and feedback', 'position': 7},
    ])


def downgrade():
    op.execute(dimension.delete())
    op.execute(obstacle_area.delete())
