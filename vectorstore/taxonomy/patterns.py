# ruff: noqa: E501  -- a table of regexes: one pattern a line reads and diffs better than patterns split mid-way.
"""The tagger's evidence: topic patterns per taxonomy category, and the cues that give a mention its polarity.

Written from the language of Ofsted letters (ILACS, focused visits) and case reviews, not from a labelled set:
each topic pattern has a weight (how surely it means the category on its own: "caseloads" 0.9, "capacity" 0.55)
and, where the words carry it, an intrinsic polarity ("drift" is always a weakness, "stable workforce" a strength).
The taxonomy file lists the indicative phrases for people; these regexes are the machine's version of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CUES",
    "DEFINITION_OR_SCOPE",
    "EXCLUSIONS",
    "IMPROVEMENT_ITEM",
    "METHOD_SENTENCE",
    "NEGATORS",
    "TOPICS",
    "Cue",
    "Topic",
    "anchors_of",
    "has_finite_verb",
]


_LEADING_ASSERTIONS = re.compile(r"^(?:\\b|\(\?<[!=](?:[^()]|\([^()]*\))*\))+")
_LITERAL = re.compile(r"[a-z0-9 ’'-]+")


def _split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex source (`a|b(c|d)` gives `a`, `b(c|d)`)."""
    parts, depth, current, i = [], 0, [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            current.append(pattern[i:i + 2])
            i += 2
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "|" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _group_end(pattern: str, start: int) -> int:
    """Index just past the group that opens at `start` (escapes and character classes respected)."""
    depth, i, in_class = 0, start, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(pattern)


def _branch_anchors(branch: str) -> list[str] | None:
    branch = _LEADING_ASSERTIONS.sub("", branch)
    if branch.startswith("(?:"):
        end = _group_end(branch, 0)
        group, rest = branch[3:end - 1], branch[end:]
        if rest[:1] in ("?", "*") or rest.startswith("{0"):
            # An optional group ("(?:senior )?leaders"): what follows it must still appear.
            return _branch_anchors(rest[1:] if rest[:1] in ("?", "*") else rest[rest.index("}") + 1:])
        out: list[str] = []
        for alternative in _split_alternatives(group):
            found = _branch_anchors(alternative)
            if found is None:
                return None
            out.extend(found)
        return out
    literal = _LITERAL.match(branch)
    text = literal.group() if literal else ""
    if text and branch[len(text):][:1] in ("?", "*", "{"):
        text = text[:-1]  # "visits?" only guarantees "visit"
    return [text] if len(text.strip()) >= 3 else None


def anchors_of(pattern: str) -> tuple[str, ...] | None:
    """Literal lowercase prefixes, one of which any match must contain; None when a branch has no usable prefix.

    Lets the tagger skip a pattern with a substring test (`"caseload" in text`), which costs a fraction of a regex
    search: most of the ~150 topic patterns cannot match a given sentence.
    """
    anchors: list[str] = []
    for branch in _split_alternatives(pattern):
        found = _branch_anchors(branch)
        if found is None:
            return None
        anchors.extend(found)
    return tuple(anchors)


@dataclass(frozen=True)
class Topic:
    """A pattern that signals a category, how strongly, and the polarity the words carry by themselves (0 if none)."""

    category: str
    pattern: re.Pattern[str]
    weight: float
    polarity: int = 0
    anchors: tuple[str, ...] | None = None  # a match contains one of these (lowercase); None: always try


@dataclass(frozen=True)
class Cue:
    """A polarity cue: +1 strength, -1 weakness, with a weight."""

    pattern: re.Pattern[str]
    polarity: int
    weight: float
    anchors: tuple[str, ...] | None = None


def _topics(category: str, rows: list[tuple[str, float] | tuple[str, float, int]]) -> list[Topic]:
    out = []
    for row in rows:
        pattern, weight, *rest = row
        polarity = int(rest[0]) if rest else 0
        out.append(Topic(category, re.compile(pattern, re.IGNORECASE), weight, polarity, anchors_of(pattern)))
    return out


# Weights: >= 0.5 tags on its own; two weak hints combine as 1 - (1-a)(1-b) (two 0.35s make 0.58).
TOPICS: tuple[Topic, ...] = tuple(
    _topics("workload", [
        (r"\bcase ?loads?\b", 0.92), (r"\bworkloads?\b", 0.9), (r"\boverwhelmed\b", 0.75, -1),
        (r"\b(?<!parental )(?<!parents’ )(?<!parents' )capacity\b(?! (?:to|for) (?:sustained )?change)(?! to parent)", 0.6),
        (r"\b(?:rising|increas\w+|high|significant|growing|unprecedented) (?:levels of )?demand\b|\bdemand (?:on|for|at)\b|\bmeet demand\b|\bvolume of (?:work|referrals|contacts)\b", 0.7, -1),
        (r"\bwaiting lists?\b|\bwaiting times?\b|\bwait(?:ed|ing)? (?:too long )?for (?:mental health|support|help|assessment|a service|treatment|camhs)\b|\bwas still waiting\b", 0.75),
        (r"\bbacklogs?\b", 0.7, -1), (r"\bdelays? in accessing\b", 0.6, -1), (r"\bunallocated\b", 0.75, -1), (r"\bstretched\b", 0.6, -1),
        (r"\b(?:sufficient|enough|more|the) time to (?:build|undertake|see|visit|complete|get to know|carry out)\b", 0.7),
        (r"\bpressures? on (?:the )?(?:service|teams|social workers|staff)\b|\bunder (?:significant )?pressure\b", 0.6, -1),
        (r"\bsufficiency\b|\bplacement choice\b|\b(?:lack|shortage|shortfall) of (?:suitable |local )?(?:placements|foster carers|homes|accommodation|adoptive families)\b", 0.6),
        # "responsible for 30 to 50 children": a caseload stated as a number; past 25 children it is a weakness
        # (the figures Ofsted letters treat as high), otherwise the words around it decide.
        (r"\b(?:responsible for|held|holding|hold|carr(?:y|ied|ying)|allocated|worked with) (?:between |up to |more than |over |around |about )?(?:\d+ (?:to|and) )?(?:2[5-9]|[3-9]\d|\d{3}) (?:children|cases|families)\b", 0.85, -1),
        (r"\b(?:responsible for|held|holding|hold|carr(?:y|ied|ying)|allocated|worked with) (?:between |up to |more than |over |around |about )?\d+(?: (?:to|and) \d+)? (?:children|cases|families)\b", 0.85),
        (r"\binherited \w+ (?:families|cases|children)\b|\bcould not keep pace\b|\btoo many (?:cases|children) (?:to|each)\b", 0.7, -1),
        (r"\bresponsible for \d+ (?:to \d+ )?children\b", 0.8, -1),
    ])
    + _topics("staffing", [
        (r"\bturnover\b", 0.92, -1), (r"\bvacanc(?:y|ies)\b(?![^.]{0,80}\bplacements?\b)", 0.8, -1),
        (r"\bvacant\b(?![^.]{0,60}placement)", 0.6, -1),
        (r"\bagency (?:social )?(?:workers?|staff|managers?|health visitors?|use)\b|\buse of agency\b", 0.85),
        (r"\b(?:reliance|dependence|dependent) on agency\b", 0.9, -1), (r"\blocums?\b", 0.8), (r"\binterim (?:staff|managers?|posts?)\b", 0.7),
        (r"\brecruit(?:ment|ing|ed)?\b(?! (?:and assess )?(?:of )?(?:adopters|foster|carers|adoptive))(?![^.]{0,30}\b(?:adopters|foster carers|carers|participation officer)\b)", 0.75),
        (r"\bretention\b|\bretain(?:ed|ing)? (?:staff|social workers|skilled|experienced)\b|\bretained case responsibility\b", 0.8),
        (r"\bstab(?:le|ility of the|ilised) (?:social work |social care )?(?:work ?force|staff(?:ing)?|teams?|management team)\b|\bwork ?force (?:is )?(?:more |increasingly )?stab\w+\b|\bworkforce (?:stability|instability)\b", 0.9),
        (r"\bwork ?force\b", 0.45), (r"\bwork ?force (?:strategy|development|plan)\b", 0.7), (r"\bstaffing\b", 0.75), (r"\bsickness absence\b|\bsick leave\b", 0.8, -1),
        (r"\bchanges? (?:of|in) (?:their |the )?(?:allocated )?(?:social )?workers?\b|\b(?:many|several|numerous) (?:different )?(?:social )?workers\b|\bsame social worker\b|\bconsistent (?:social )?workers?\b", 0.85),
        (r"\bpermanent (?:staff|social workers|posts?|managers?|basis)\b|\b(?:new|additional|extra) (?:social work |social worker )?(?:posts|staff|social workers)\b|\bsocial work posts\b|\bposts? (?:was|were)? ?(?:not )?covered\b", 0.75),
        (r"\b(?:contract|assignment) (?:ended|had finished)\b|\bfinished her assignment\b|\bleft at short notice\b|\bstaff leaving\b", 0.75, -1),
    ])
    + _topics("leadership_management", [
        (r"\bmanagement oversight\b|\bmanagerial oversight\b|\bmanagement grip\b", 0.95),
        (r"\boversight\b", 0.75), (r"\bsupervis(?:ion|ory)\b(?! (?:appointments|order))(?! visits)", 0.85),
        (r"\bquality assurance\b|\baudit(?:s|ing|ed)?\b", 0.8), (r"\bscrutin(?:y|ise|ised)\b", 0.7),
        (r"\bself[- ](?:evaluation|assessment)\b|\bknow (?:their|the) (?:service|strengths)\b|\bunderstanding of (?:the )?(?:service|strengths|their service)\b", 0.85),
        (r"\bperformance management\b|\bimprovement plan\b|\bgovernance\b|\baccountability\b", 0.7),
        (r"\belected members?\b|\blead member\b|\bpolitical\b|\bcorporate (?:support|leaders)\b|\bchief executive\b|\bcouncillors?\b", 0.75),
        (r"\b(?:senior )?(?:leaders|managers|leadership team|management team)\b(?: (?:and managers|in the local authority))? (?:were|are|was) (?:not )?(?:aware|sighted|unaware)\b", 0.9, -1),
        (r"\bnot aware of\b[^.]{0,40}\b(?:shortfalls|issues|extent|prevalence)\b", 0.6),
        (r"\b(?:senior )?leaders (?:have |had )?(?:ensured|know|understand|have a (?:clear|good|strong|realistic|accurate)|are (?:ambitious|determined|committed)|have (?:made|taken|driven|prioritised|established|continued))\b", 0.7),
        (r"\b(?:senior )?leaders\b|\bleadership\b|\bdirector of children|\bthe dcs\b|\bdcs\b", 0.45),
        (r"\b(?:team |senior |service |first[- ]line |frontline )?managers?\b", 0.4),
        (r"\bindependent reviewing officers?\b|\biros?\b|\bchild protection chairs\b", 0.5), (r"\bsenior (?:leaders|managers)\b", 0.5),
        (r"\b(?:leaders|leadership team|managers)\b (?:\w+ ){0,3}(?:have|has) (?:been )?(?:not )?(?:acted|effective|ensured|achieved|driven|made|established|listened|assessed|invested)\b|\bby (?:senior )?(?:leaders|managers)\b|\bmembers of the council\b|\bmanagers to (?:monitor|oversee|understand)\b|\bsupport(?:ed)? (?:\w+ ){0,5}(?:from|by) (?:their )?(?:managers|leaders)\b", 0.6),
        (r"\bchallenge (?:and|from) (?:the )?(?:iros?|managers|leaders)\b|\bmanagers (?:make|provide|ensure|monitor)\b|\bdecision[- ]making (?:and|by) (?:managers|case direction)\b|\bcase direction\b", 0.7),
        (r"\bmonitor(?:s|ing)? (?:the )?(?:frequency|performance|progress|compliance|this cohort)\b|\bsighted\b|\bgrip\b", 0.6),
        # management absence (design.md lists it here): "the team manager was on long-term sick leave"
        (r"\b(?:managers?|management|head of service|director|leaders?)\b[^.]{0,60}\b(?:sick(?:ness)? (?:leave|absence)|long-term (?:sick|absen\w+)|(?:were|was|been) absent|not permanently filled|interim cover|temporary cover)\b|\b(?:absence|absences) of (?:the |their |senior |team |service )*(?:managers?|leaders?|head of service)\b", 0.9, -1),
    ])
    + _topics("finance_change", [
        (r"\bbudgets?\b|\bfunding\b|\bfinancial (?:pressures?|constraints|investment|support|contributions)\b|\bspending\b|\bsavings\b|\bausterity\b", 0.85),
        (r"\binvest(?:ment|ed|ing|s)?\b(?! time)", 0.8), (r"\b(?:additional|more|extra) resources\b|\bresources being made available\b", 0.75),
        (r"\bcuts?\b(?! (?:across|through))", 0.6, -1), (r"\brestructur\w+\b|\breorganis\w+\b|\breconfigur\w+\b|\bredesign\w*\b", 0.85),
        (r"\btransform(?:ation|ational|ing|ed)?\b|\bchange programme\b|\bperiod of change\b", 0.6),
        (r"\b(?:new )?(?:social work |practice )?model of (?:practice|managing risk)\b|\bpractice model\b|\bhub model\b", 0.4),
        (r"\bstatutory minimum\b|\blegally required to provide\b|\blimit spending\b", 0.85, -1),
        (r"\bservices have been (?:reconfigured|reduced|cut)\b|\breduced the children’s services budget\b|\breductions\b", 0.6, -1),
    ])
    + _topics("systems_tools", [
        (r"\b(?:case[- ](?:management|record(?:ing)?)|electronic (?:case )?(?:recording|record)|recording|record|it|computer) systems?\b|\belectronic records?\b", 0.95),
        (r"\bperformance (?:data|information|reports?|management information)\b|\bmanagement information\b|\bscorecard\b|\bdashboards?\b", 0.85),
        (r"\b(?:case |supervision )?records? (?:are|is|were|was) (?:not )?(?:up to date|detailed|clear|variable|accurate|poor|inconsistent)\b|\brecord[- ]?keeping\b|\bwritten records\b", 0.7), (r"\b(?:case )?recording\b|\brecorded (?:clearly|well|on)\b|\bwell recorded\b|\brecords\b|\bcase files?\b", 0.45),
        (r"\bchronolog(?:y|ies)\b", 0.55), (r"\bdatabase\b|\bcomputer\b|\btechnology\b|\binaccurate (?:performance )?data\b|\bdata (?:quality|is|are)\b", 0.7),
        (r"\b(?:priority[- ]monitoring )?flags?\b|(?<!case )\balerts?\b(?! to)|\bsummary screen\b|\btracking systems?\b", 0.55),
        (r"\b(?:screening|assessment) tools\b|\btemplates?\b", 0.45), (r"\bconsent is not (?:always )?recorded\b", 0.6, -1),
    ])
    + _topics("procedures_thresholds", [
        (r"\bthresholds?\b(?! of being)(?! on key)(?![^.]{0,20}\bindicators\b)", 0.88),
        (r"\bpolic(?:y|ies)\b", 0.7), (r"\bprocedures?\b(?! (?:was|were) (?:held|followed up))", 0.75), (r"\bprotocols?\b", 0.7),
        (r"\b(?:closure |threshold |statutory )guidance\b|\bcriteria\b|\beligibility\b|\bcontinuum of need\b|\bregulations\b", 0.6), (r"\bguidance\b", 0.4),
        (r"\b(?:service )?pathways?(?! plans?)\b", 0.5), (r"\bstep[- ]?(?:up|down) arrangements\b", 0.4),
        (r"\bnot (?:always )?clear about (?:the )?(?:process|procedures?|thresholds?|pathways?)\b|\bstringent\b|\bwould routinely be stepped down\b", 0.7, -1),
        (r"\bnot being accepted by children’s social care\b", 0.7, -1),
    ])
    + _topics("multiagency", [
        (r"\bmulti[- ]?agency\b|\bpartner agencies\b|\bkey (?:safeguarding )?partners\b|\bwider partners\b|\bpartners\b", 0.85),
        (r"\bmash\b|\bmulti-agency safeguarding hub\b|\bfront door\b|\b(?:integrated )?hub\b|\bmass\b", 0.8),
        (r"\b(?:local )?safeguarding (?:children )?(?:partnership|board)\b|\blscb\b|\bthe board\b|\bsub-?groups?\b|\bthe partnership\b|\bpartnership (?:working|arrangements)\b|\bstrong partnerships?\b", 0.75),
        (r"\bpolice\b", 0.45), (r"\b[a-z]{0,3}sc[bp]s?\b|\bnetwork meetings?\b|\breferrals? from (?:partners|agencies|schools|health|the police)\b", 0.6), (r"\bhealth (?:visit(?:ing|ors?)|partners|representation|professionals|colleagues)\b|\bgps?\b|\bschools?\b(?! attendance team)|\bnhs\b|\bcamhs\b", 0.45),
        (r"\bagencies\b", 0.55),
        (r"\b(?:involve|involving|include|including|invite|inviting|without) (?:the |all )?(?:police|health|partners|partner agencies|schools|gps?|education)\b", 0.6), (r"\binformation[- ]sharing\b|\bshar(?:e|es|ed|ing) information\b|\binformation (?:passes|is shared)\b", 0.75),
        (r"\bco-?locat\w+\b|\bjoint (?:working|supervision)\b|\bwork(?:s|ing)? (?:closely|together|constructively)\b|\bintegrated work\b", 0.6),
        (r"\breferring agencies\b|\bprofessionals from\b|\battendance\b[^.]{0,40}\bpartners\b|\battended by\b[^.]{0,30}\b(?:agencies|partners|police)\b", 0.7),
        (r"\bnotifications?\b[^.]{0,40}\b(?:hub|mash)\b|\bpolice (?:sending )?notifications?\b|\bnot routinely (?:told|invited|informed|shared|consulted)\b", 0.55),
    ])
    + _topics("training_experience", [
        (r"\btrain(?:ing|ed)\b(?![^.]{0,40}\b(?:adopters|foster carers|connected carers)\b)(?<!education, employment or training)(?<!employment and training)", 0.85),
        (r"\b(?:third|half|quarter|proportion|majority|many)\b[^.]{0,40}\b(?:newly|recently) qualified\b", 0.9, -1),
        (r"\bnewly qualified\b|\brecently qualified\b|\bnqsws?\b|\basye\b|\bassessed and supported year\b|\bfirst year in practice\b", 0.85),
        (r"\b(?:in)?experience(?:d)?\b(?<!lived experience)(?<!lived experienced)(?! of )(?![^.]{0,10}\bwith care leavers\b)|\binexperience\b", 0.5),
        (r"\bprofessional development\b|\blearning and development\b|\bdevelopment opportunities\b|\bcareers?\b|\bcpd\b|\binduction\b|\bacademy\b|\bcoaching\b|\bpractice excellence\b", 0.8),
        (r"\bskill(?:s|ed)\b(?! programmes)(?<!life skill)(?<!life skills)|\bknowledge\b|\bexpertise\b|\bcompeten\w+\b", 0.45),
        (r"\bawareness raising\b|\blearning offer\b|\bstaff training\b", 0.7),
    ])
    + _topics("culture", [
        (r"\bcultures?\b(?![^.]{0,25}\bidentity\b)(?<!island culture)(?<!race, culture)(?<!histories and cultures)", 0.85),
        (r"\bmorale\b|\bfeel(?:s)? (?:respected and )?valued\b|\bvalued\b|\bfeel (?:well )?supported\b|\bwell[- ]supported\b|\benjoy (?:working)?\b|\blike working\b|\bmotivated\b|\bsupports? learning\b|\blearning (?:culture|organisation)\b|\bproud\b|\brewarding\b", 0.7),
        (r"\bblam(?:e|ing)\b|\bopenness\b|\bimminent danger\b|\bethos\b|\bpointless\b|\blifestyle choices\b|\bstreetwise\b|\blanguage that presented\b", 0.8),
        (r"\breflective\b|\breflection\b|\bcommitted\b", 0.4),
    ])
    + _topics("assessment_quality", [
        (r"\bassessments?\b(?! (?:and supported|year))(?![^.]{0,25}\b(?:adopters|foster carers)\b)(?<!assessed and supported)(?<!prospective adopters are)", 0.8),
        (r"\banaly(?:sis|ses|tical|se|sed)\b", 0.7), (r"\bassess(?:ed|ing)\b(?! as)(?! and supported)", 0.4), (r"\bprofessional curiosity\b|\bcontingency plan\w*\b|\bcumulative harm\b", 0.85),
        (r"\bhistor(?:y|ies|ical context)\b|\bchronolog(?:y|ies)\b|\bpast experiences\b", 0.55),
        (r"\b(?:children’s |child in need |child protection |care |pathway |permanen\w+ |long-term |support |safety |their |child’s )?plans?\b(?! (?:to|for) (?:recruit|increase|address|develop|implement))(?! in place to)|\b(?:care |permanen\w+ |child in need |cin )?planning\b", 0.4),
        (r"\b(?:plans?|planning) (?:are|is|were|was|do|does|did|lack|have been)\b[^.]{0,30}\b(?:specific|clear|focused|smart|effective|analytical|detailed|up to date|updated|thorough|robust|informed|adult|developed|measurable|progress\w*)\b|\bquality of (?:\w+ )?(?:planning|plans)\b|\b(?:plans?|planning) (?:is|are) (?:not )?(?:well|mostly|generally)\b", 0.75),
        (r"\b(?:identif\w+|understand\w*|recognis\w+|manage|consider\w*) (?:the )?(?:myriad )?risks?\b|\brisks? (?:and needs |to children )?(?:are|is) (?:well )?(?:identified|understood|recognised)\b|\brisk and protective factors\b|\b(?:analysis|review|assessment) of risk\b|\bgraded\b", 0.7),
        (r"\bneeds (?:are|were|being) (?:not )?(?:fully )?(?:identified|understood|assessed|met)\b|\bparental capacity\b|\bfathers\b|\bmale carers\b|\bdecision[- ]?making\b", 0.45),
        (r"\bsuperficial\b|\badult[- ](?:focused|orientated)\b|\bclosed prematurely\b|\bassessed as\b", 0.5, -1),
    ])
    + _topics("visits", [
        (r"\bvisit(?:ed|s|ing)? (?:them |to )?(?:children|young people|the child|families|him|her)\b|\b(?:children|young people|they) are (?:regularly |frequently |routinely |not )?(?:visited|seen)\b|\bare (?:now )?visited\b", 0.9),
        (r"\b(?:statutory|home|regular|frequent|swift|new birth|listening|virtual|purposeful|rushed|missed) visits?\b|\bvisits (?:are|to children)\b|\bvisits? (?:is|was|were) (?:not )?(?:offered|prompt|timely)\b|\bno visit\b", 0.85),
        (r"\bseen alone\b|\bspoken to alone\b|\b(?:was|were|been) (?:never |not )?seen\b|\bnot seen\b|\bseen in person\b|\bseen (?:in line with|regularly|frequently)\b", 0.85),
        (r"\bwas not brought\b|\bmissed (?:contacts?|appointments?|reviews?)\b|\breview had been missed\b|\bbefore she could meet\b", 0.8, -1),
        (r"\bvisited\b(?! and made aware)", 0.6), (r"\bto see (?:the )?child(?:ren)?\b|\bsee children\b", 0.7),
    ])
    + _topics("child_voice", [
        (r"\bvoices?\b|\bwishes and feelings\b|\blived experiences?\b|\bdirect work\b|\blife[- ]story\b", 0.9),
        (r"\b(?:children’s|child’s|young people’s|their) views\b|\bviews (?:of|from) (?:the )?(?:children|young people|child|care leavers)\b|\bviews and (?:wishes|experiences|feelings)\b|\bexpress (?:their|his|her) (?:views|feelings)\b|\bseek(?:s)? (?:the |their )?views\b", 0.85),
        (r"\bknow (?:them|their children|the children|children|the young people|young people)(?: they work with)? well\b|\b(?:trusting|positive|meaningful|warm|consistent) relationships?\b|\bbuild(?:ing)? (?:a )?relationships?\b", 0.75),
        (r"\b(?:what life (?:is|was) like|children’s experiences|child’s world|understand (?:their|children’s) (?:journeys|experiences))\b|\bsensitive(?:ly)? (?:to children|record)\b", 0.75),
        (r"\badvoca(?:cy|tes?)\b|\bparticipation\b|\bindependent visitors?\b|\blisten(?:ed|s)? to (?:children|care leavers|young people)\b|\bchildren in care council\b|\bpositive about how their social workers\b|\bfeedback from young people\b", 0.75),
    ])
    + _topics("case_info_sharing", [
        (r"\b(?:was|were|had) not (?:been )?(?:told|informed|shared|sent|passed on|invited)\b(?! of (?:his|her|their) (?:right|entitlement))", 0.8, -1),
        (r"\b(?:did not|never) (?:know|share|tell|inform|contact|pass|opened|used|brought together)\b|\bno one (?:checked|asked|told)\b|\bdid not know\b", 0.6, -1),
        (r"\b(?:the )?(?:email|letter|referral|notification|information)\b[^.]{0,60}\b(?:was|were) (?:lost|never|not)\b|\bit was lost\b|\bnever brought together\b|\bnot informed by checks\b", 0.7, -1),
        (r"\bassumed (?:that )?(?:a|it|the)\b[^.]{0,40}\b(?:would|was involved)\b", 0.8, -1),
        (r"\bshared (?:it )?with (?:the )?(?:gp|health visitor|police|school)\b", 0.75, 1),
    ])
    + _topics("over_optimism", [
        (r"\bdrift(?:ed|ing)?\b", 0.92, -1), (r"\b(?:over|overly)[- ]?optimis\w+\b|\brule of optimism\b|\bdisguised compliance\b|\bparental compliance\b", 0.92),
        (r"\bdelays? (?:for|in (?:progressing|securing|implementing|achieving|having|children|permanence|care proceedings))\b|\bwithout (?:any )?delay\b|\bfewer delays\b", 0.7, -1),
        (r"\b(?:too long|longer than (?:they need|necessary|six months))\b(?![^.]{0,30}\bindependent visitor\b)|\bchronic neglect\b|\bunrealistic expectations?\b|\bstart again\b|\bface value\b|\bat the pace\b", 0.7, -1),
        (r"\bwho was engaging\b|\bprogress(?:ed|ing)? (?:at pace|quickly enough)\b|\bplans are progressing\b|\bin a timely way\b[^.]{0,10}$", 0.65),
        (r"\bnot making (?:the |sufficient )?progress\b|\bcircumstances do not improve\b", 0.6, -1),
    ])
    + _topics("case_escalation", [
        (r"\bescalat(?:e|ed|ion|ing|es)\b(?! (?:into|to) (?:public law))(?<!do not escalate)(?<!needs escalate)", 0.85),
        (r"\bescalation (?:procedure|policy|protocol)\b|\bdid not escalate\b|\bdispute resolution\b|\bcase alerts\b", 0.95),
        (r"\bprofessional challenge\b|\bchallenge(?:d|s)? (?:the )?decisions?\b", 0.8),
        (r"\bpre-?proceedings\b|\bpublic law outline\b|\bplo\b|\bcare proceedings\b|\blegal (?:gateway|planning|framework)\b|\bcare orders?\b|\btake children into care\b", 0.7),
        (r"\bstep(?:ped)?[- ]up\b|\bstep up to\b", 0.75),
        (r"\b(?:decisive|robust|timely|swift|proportionate|immediate|effective,? proportionate) (?:alternative )?action\b|\baction is (?:not always )?taken\b|\bresponds? swiftly\b|\bresponses? to immediate\b|\bresponded to\b[^.]{0,10}$", 0.7),
    ])
    + _topics("defence", [
        (r"\bstrategy (?:meetings?|discussions?)\b", 0.8), (r"\b(?<!family group )(?:child protection |initial |review )?conferences?\b(?! (?:and|or) core)|\bcore groups?\b", 0.7),
        (r"\bsection 47\b|\bs47\b|\bchild protection enquir\w+\b", 0.75),
        (r"\breturn (?:home )?interviews?\b|\binterviews? (?:offered|completed)\b|\bmissing (?:episodes?|from (?:home|care)|education)\b|\binterviews?\b[^.]{0,15}\b(?:offered|completed)\b|\b(?:absence of|no) (?:return )?interviews?\b", 0.75),
        (r"\bgo(?:es|ing)? missing\b|\bmissing\b", 0.45), (r"\b(?:meetings|conferences) (?:are |were )?(?:well |sensitively )?chaired\b", 0.6),
        (r"\blado\b|\bdesignated officer\b|\ballegations (?:made )?against\b", 0.85),
        (r"\bout[- ]of[- ]hours\b|\bout of office hours\b|\bemergency duty\b", 0.85),
        (r"\bprivate(?:ly)? fostere?d?\b|\bsafe and well checks\b", 0.6), (r"\bsafety plans?\b|\bsafeguarded\b", 0.4),
        (r"\bsexual exploitation\b|\bexploitation\b", 0.35),
    ])
)

# Words whose presence says the sentence reports a weakness (-1) or a strength (+1). A negator in the three
# words before a cue inverts it ("not effective" is a weakness, "no delays" a strength), and then counts once.
_NEG = [
    (r"\black(?:s|ed|ing)?\b", 0.9), (r"\binsufficient(?:ly)?\b", 0.9), (r"\binadequate\b", 1.0), (r"\bpoor(?:ly)?\b", 1.0),
    (r"\bweak(?:ness|nesses|er)?\b", 1.0), (r"\btoo (?:high|many|long|slow|variable|much|few|little|late|narrow|limited|adult|focused)\b", 1.0),
    (r"\blimited\b", 0.7), (r"\bdelay(?:s|ed)?\b", 0.8), (r"\bvariab(?:le|ility)\b", 0.8),
    (r"\binconsisten(?:t|tly|cy|cies)\b", 0.9), (r"\bmissed\b", 0.8), (r"\babsen(?:ce|t) (?:of|from)\b", 0.9),
    (r"\bfail(?:ed|s|ing|ure)?\b", 0.9), (r"\bunable\b", 0.8), (r"\bdifficult(?:y|ies)?\b", 0.7),
    (r"\bconcern(?:s|ing)?\b", 0.4), (r"\bshortfalls?\b", 0.9), (r"\bgaps?\b", 0.7), (r"\bdeteriorat\w+\b", 1.0),
    (r"\bdeclin\w+\b", 0.9), (r"\bpressures?\b", 0.6), (r"\bbacklogs?\b", 0.9), (r"\bunclear\b", 0.9),
    (r"\bunwieldy\b", 1.0), (r"\bhamper\w*\b|\bhinder\w*\b|\bcompromised\b|\bprematurely\b|\bsuperficial\b", 1.0),
    (r"\brushed\b", 0.9), (r"\boverwhelmed\b", 1.0), (r"\bstretched\b", 0.8), (r"\bworrying\b|\bworried\b", 0.7),
    (r"\bremains? (?:high|difficult|stubbornly|a challenge|too)\b|\bstubbornly\b", 2.0),
    (r"\bnegative(?:ly)?\b|\bprevents?\b|\bnot (?:\w+ )?enough\b", 0.9),
    # "low" is good news for caseloads (a burden, handled by BURDENS) but bad news for these.
    (r"\b(?:morale|attendance|confidence|take-up|uptake|engagement|staffing) (?:is|are|was|were|remains?) (?:very |too )?low\b|\blow (?:morale|attendance|take-up|uptake|staffing levels|levels of (?:engagement|attendance|confidence))\b", 1.2), (r"\bnot yet\b|\byet to\b", 0.9),
    (r"\bmore (?:needs to|to) (?:be done|do)\b|\bneeds? to (?:improve|be (?:strengthened|improved|clearly))\b", 1.0),
    (r"\brequires? improvement\b|\bneeds improvement\b", 0.9), (r"\bsignificant (?:drift|delay|weakness)\w*\b", 1.0),
    (r"\bunsuitable\b|\binaccurate\b|\bunrealistic\b|\bunhappy\b|\bpointless\b|\blost\b", 0.9),
    (r"\bshould(?: have)?\b", 0.6), (r"\b(?:infrequent|brief|narrow(?:ed)?)\b", 0.8), (r"\bonly (?:just|on|two|one)\b", 0.6),
    (r"\bweakened\b|\breduced (?:budgets?|funding|services|capacity|support|representation)\b|\bremoved\b|\bvacant\b|\bcuts?\b", 0.8),
    (r"\bdespite\b", 0.3), (r"\bdoes not\b|\bdo not\b|\bdid not\b|\bis not\b|\bare not\b|\bwas not\b|\bwere not\b", 0.0),
    (r"\b(?:very|too) few\b", 0.8), (r"\bhigher than\b", 0.8),
    (r"\bwait(?:ed|ing)? too long\b|\bstill waiting\b", 1.0), (r"\bhigh (?:turnover|caseloads|workloads|demand|levels of (?:demand|agency))\b", 1.0),
    (r"\bexcessive\b|\bunmanageable\b|\bunstable\b|\binstability\b", 1.0), (r"\bchalleng(?:es|ing)\b(?! (?:decisions|parents))", 0.5),
]
_POS = [
    (r"\bgood\b", 0.9), (r"\bstrong(?:ly|er)?\b", 0.9), (r"\beffective(?:ly|ness)?\b", 0.9), (r"\bwell\b", 0.8),
    (r"\btimely\b", 0.8), (r"\bprompt(?:ly)?\b", 0.8), (r"\bswift(?:ly)?\b", 0.8), (r"\brobust(?:ly)?\b", 0.8),
    (r"\bthorough\b", 0.9), (r"\bclear(?:ly)?\b", 0.6), (r"\bconsistent(?:ly)?\b", 0.6), (r"\bstab(?:le|ility|ilised)\b", 0.8),
    (r"\bimprov(?:ed|ing|ement|ements)\b", 0.8), (r"\bstrengthened\b", 0.7), (r"\bmanageable\b", 1.0),
    (r"\bregular(?:ly)?\b", 0.6), (r"\bappropriate(?:ly)?\b", 0.7), (r"\bhigh[- ]quality\b|\bhigh standard\b", 0.9),
    (r"\bskilled\b", 0.5), (r"\bvalued?\b", 0.6), (r"\bsupport(?:ed|ive)\b", 0.4), (r"\bsufficient\b", 0.6),
    (r"\bcomprehensive\b|\bdetailed\b|\bpurposeful\b|\bproactive(?:ly)?\b|\bembedded\b|\bresponsive\b|\brigorous\b|\brigour\b", 0.7),
    (r"\bexceptional(?:ly)?\b|\boutstanding\b|\bexcellen(?:t|ce)\b|\bimpressive\b|\bhighly\b", 0.9),
    (r"\bpositive(?:ly)?\b", 0.6), (r"\bbenefit(?:s|ed)? from\b", 0.7), (r"\bensur(?:e|es|ed|ing)\b", 0.4),
    (r"\baccurate\b|\bcommitted\b|\bproud\b|\benjoy\b|\bcreative(?:ly)?\b|\bsensitive(?:ly)?\b|\brewarding\b", 0.7),
    (r"\bincreasingly\b|\bnow\b|\bhas since\b|\bsince (?:the last|then)\b", 0.4), (r"\bin place\b|\bestablished\b", 0.4),
    (r"\binvest(?:ed|ment|ing)\b|\badditional\b|\bcreation of\b|\bincrease in (?:the number of )?(?:social work|staff|posts|capacity)\b", 0.5),
    (r"\bstrength(?:s)?\b", 0.8), (r"\bprioritised\b|\bpriority\b", 0.4), (r"\bpersistent\b|\bdetermin(?:ed|ation)\b|\bambitious\b", 0.5),
    (r"\bwarm(?:th)?\b|\btrust(?:ed|ing)\b|\brespect(?:ed)?\b|\bheard\b|\bcareful(?:ly)?\b|\bproportionate\b|\bsound\b", 0.6),
    (r"\b(?:rose|risen|increased|improved) (?:from|to) \d", 0.8), (r"\bon track\b|\bfruition\b|\bon time\b|\bwithin timescales?\b|\bin line with\b", 0.7),
    (r"\bgood practice\b", 1.0), (r"\bhas (?:raised|enabled|led to)\b|\bhave (?:led to|enabled)\b", 0.4),
]
CUES: tuple[Cue, ...] = tuple(
    [Cue(re.compile(p, re.IGNORECASE), -1, w, anchors_of(p)) for p, w in _NEG]
    + [Cue(re.compile(p, re.IGNORECASE), 1, w, anchors_of(p)) for p, w in _POS]
)

# Negators invert the next cue within three words ("not always effective", "no delays", "without drift").
NEGATORS = re.compile(
    # ("not only … but also" adds, it does not deny)
    r"\b(?:not(?! only\b)|no|never|nor|none|neither|without|cannot|can't|don't|doesn't|didn't|isn't|aren't|wasn't|weren't|hasn't|haven't|lack of)\b",
    re.IGNORECASE,
)

# Words that make "reduced"/"lower" good news: a reduction in a burden is a strength, in a resource a weakness.
BURDENS = re.compile(
    r"\b(?:case ?loads?|workloads?|turnover|vacanc(?:y|ies)|agency (?:staff|workers|social workers)|reliance|dependence|"
    r"delays?|drift|waiting|backlogs?|demand|number of (?:children|missing)|re-?referrals|shortfall)\b",
    re.IGNORECASE,
)
DIMINISHERS = re.compile(r"\b(?:reduc(?:ed|ing|tion|e|es)|lower|low|fewer|decreas(?:ed|ing|e)|fall(?:en|ing)?|smaller|below|"
                         r"negligible|minimal)\b",
                         re.IGNORECASE)
INCREASERS = re.compile(r"\b(?:increas(?:ed|ing|e|es)|rising|ris(?:en|e)|higher|high|more|growing|grown)\b", re.IGNORECASE)

# Sentences that describe the inspection or review itself ("Inspectors looked at…") report no finding.
METHOD_SENTENCE = re.compile(
    r"^(?:inspectors (?:looked|reviewed|considered|evaluated|met|spoke|held|read|also (?:looked|considered|reviewed))|"
    r"this (?:letter|report) (?:summarises|sets out|outlines|is)|the (?:visit|inspection) (?:was|followed|focused)|"
    r"(?:they )?also considered|ofsted will take|it (?:regulates|assesses|inspects)|the office for standards|"
    r"the review (?:used|distinguishes|asks|was led|group)|section \d|sections \d|the reviewer (?:combined|has tried|met)|"
    r"the terms of reference|the aim (?:is|was) to|the inspectors were|his majesty|her majesty|"
    r"inspectors (?:evaluated|were)|the lead inspector|we (?:looked|reviewed)|"
    r"(?:most of )?the work was done|two practitioner learning events)",
    re.IGNORECASE,
)

# Definitions, theory and the scope of a review, which state no condition of this case or service (LABELLING.md's
# "no label"): "Workload is defined as…", "Reason describes…", "This review was commissioned…", "The methodology…".
# With METHOD_SENTENCE, the learned tagger's gate for sentences read alone (`latent tag` has no section to go by);
# on the labelled train and dev parts the gate (with its exceptions in tagger.py) takes 233 sentences, none labelled.
DEFINITION_OR_SCOPE = re.compile(
    # the term defined opens the sentence: "Caseloads are too high and workload is defined as…" is a finding
    r"^(?:[\w’'-]+ ){1,4}(?:(?:is|are) (?:defined|understood) as|is a term)\b|"
    r"^(?:[\w’'-]+ ){1,4}refers? to (?:the|a|any)\b(?![^.]{0,40}\b(?:delay|lack|absence|failure|high|low)\b)|"
    r"^(?:reason|vincent|munro|the swiss cheese model|latent conditions|active failures) "
    r"(?:describes?|argues?|distinguish(?:es)?|identifie[sd]|is|are)\b|"
    r"^(?:this|the) (?:review|serious case review|practice review|local child safeguarding practice review|report|"
    r"rapid review) (?:was|has been|is being) (?:commissioned|conducted|undertaken|carried out|written)\b|"
    r"^(?:the )?(?:methodology|method|review period|scope of the review|purpose of (?:the|this) review)\b|"
    r"^information (?:was|has been) (?:gathered|obtained|collected|drawn)\b",
    re.IGNORECASE,
)

# Category-specific vetoes: when one of these matches, weak evidence for the category is discarded.
EXCLUSIONS: dict[str, re.Pattern[str]] = {
    "training_experience": re.compile(r"\b(?:foster carers|adopters|connected carers)\b[^.]{0,60}\btraining\b|\beducation, (?:employment|training)\b", re.I),
    "visits": re.compile(r"\b(?:focused|this|monitoring|inspection|supervisory) visits?\b", re.I),
    "culture": re.compile(r"\b(?:identity|ethnicity|race|island culture)\b", re.I),
    # Fostering "vacancies" are empty placements, not unfilled posts.
    "staffing": re.compile(r"\bplacements?\b(?![^.]{0,40}\b(?:social workers?|staff)\b)", re.I),
}

# "What needs to improve" items are noun phrases or imperatives ("The quality of case supervision for staff.",
# "Help social workers understand ... by making better use of chronologies.") and recommendations: each names a
# weakness without saying so, so they lean negative.
IMPROVEMENT_ITEM = re.compile(
    r"^(?:recommendation\b|(?:the|improving the|further) (?:\w+ ){0,3}(?:quality|use|understanding|scrutiny|recording|"
    r"visibility|timeliness|consistency|effectiveness|impact|sufficiency|application|availability|range|capacity|"
    r"management|identification|oversight|involvement|response|voice) (?:of|and|for|to)\b|"
    r"(?:improve|ensure|help|strengthen|develop|monitor|increase|review|record|agree|provide|establish|embed|"
    r"capturing|learning from|opportunities for)\b)",
    re.IGNORECASE,
)
_FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|does|do|did|can|could|will|would|should|must|may|might|shall|ensures|means|"
    r"leads|provides|supports|enables|helps|shows|results|includes|reflects|continues|remains|receives?|benefits?|"
    r"takes|makes|knows|understands|uses|works|contains|informs|considers|identifies|needs|lacks|demonstrates?)\b",
    re.IGNORECASE,
)


def has_finite_verb(text: str) -> bool:
    """Whether a sentence has a finite verb we recognise (noun-phrase list items do not)."""
    return _FINITE.search(text) is not None
