"""Ordered text rules: which words in a normalised charge literal decide its category.

Rules are tried in order; the first strong rule that matches decides. Weak rules
(a bare warrant, an unnamed drug) decide only when no strong rule and no offense
code does. The order encodes DESIGN §6's boundary decisions, so it is not simply
the rank order: e.g. a motion to revoke probation is court_supervision even when
it names the underlying offense, and a child victim wins over adult sexual assault.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One text rule: `pattern` (and `requires`, unless `unless`) found in the text → `category`."""

    name: str
    category: str
    pattern: re.Pattern
    requires: re.Pattern | None = None
    unless: re.Pattern | None = None
    weak: bool = False
    keeps_modifier: bool = True

    def matches(self, text: str) -> bool:
        """True when this rule applies to normalised `text`."""
        return (
            self.pattern.search(text) is not None
            and (self.requires is None or self.requires.search(text) is not None)
            and (self.unless is None or self.unless.search(text) is None)
        )


def _re(*alternatives: str) -> re.Pattern:
    return re.compile("|".join(f"(?:{a})" for a in alternatives))


def rule(name: str, category: str, *alternatives: str, requires: str | None = None,
         unless: str | None = None, weak: bool = False, keeps_modifier: bool = True) -> Rule:
    """Build a Rule from regex alternatives (matched against normalised text)."""
    return Rule(
        name=name,
        category=category,
        pattern=_re(*alternatives),
        requires=re.compile(requires) if requires else None,
        unless=re.compile(unless) if unless else None,
        weak=weak,
        keeps_modifier=keeps_modifier,
    )


CHILD = (
    r"\b(?:CHILD|CHILDREN|CHILDS|MINOR|MINORS|BOY|GIRL|UNDERAGE)\b"
    # "JUVENILE PETITION" names a young accused, not a young victim.
    r"|\bJUVENILE\b(?! (?:PETITION|WARRANT|DETENTION|COURT|HOLD|REFERRAL|OFFENDER))"
    r"|\bUNDER (?:AGE )?(?:[1-9]|1[0-8])\b|(?:^|\s)< (?:[1-9]|1[0-8])\b|(?:^|\s)<= (?:[1-9]|1[0-7])\b"
    r"|\b(?:YOUNGER|LESS) THAN (?:[1-9]|1[0-7])\b"
    # An age written out: "VICT 12 YOA", "14 YEARS OF AGE", "13 YRS OLD".
    r"|\b(?:[1-9]|1[0-7]) (?:YOA|YOM|YOF|YO|YRS? OLD|YEARS? OLD|YEARS? OF AGE)\b"
)
CHILD_RE = re.compile(CHILD)
SEXUAL = (
    r"\b(?:SEXUAL|SEXUALLY|RAPE|INDECENCY|INDECENT|MOLEST\w*|SODOMY|PORNOGRAPH\w*|OBSCEN\w*|LEWD\w*"
    r"|LASCIVIOUS|FONDL\w*|CARNAL|INCEST|PROSTITUT\w*|COPULATION|IMMORAL)\b"
)
DRUG = (
    r"\b(?:CONTROLLED|SUBSTANCES?|MARIJUANA|COCAINE|CRACK|HEROIN|FENTANYL|METHAMPHETAMINE|AMPHETAMINES?"
    r"|OPIUM|OPIATES?|OPIOIDS?|NARCOTICS?|DRUGS?|PENALTY GROUP|SCHEDULE|SCH|CANNABIS|THC|HASHISH|MDMA"
    r"|ECSTASY|LSD|PCP|OXYCODONE|HYDROCODONE|MORPHINE|CODEINE|ALPRAZOLAM|XANAX|PSILOCYBIN|MUSHROOMS"
    r"|SYNTHETIC CANNABINOIDS?|K2|SPICE|PARAPHERNALIA|INHALANTS?|VOLATILE CHEMICALS?|DANGEROUS DRUGS?)\b"
)
DRUG_ACTION = (
    r"\b(?:MANUFACTUR\w*|DELIVERY|DELIVER\w*|DISTRIBUT\w*|SELL\w*|SALES?|SOLD|TRAFFIC|TRAFFICK\w*"
    r"|SMUGGL\w*|IMPORT\w*|CULTIVAT\w*|PRODUC\w*|INTENT|DISPENS\w*|TRANSPORT\w*|FURNISH\w*)\b"
)
_SEXUAL, _DRUG, _DRUG_ACTION = SEXUAL, DRUG, DRUG_ACTION
# Registration that is not a sex offender's: vehicles, boats, voters, dogs, guns.
_OTHER_REGISTRATION = r"(?!.*\b(?:VEHICLE|BOAT|VESSEL|VOTER|DOG|FIREARM|TAGS?|PLATES?)\b)"
_REGISTRATION = (
    r"\bSEXUAL (?:OFFENDERS?|OFF|OFFNDR|PREDATORS?|REGISTRANTS?)\b", r"\bDUTY TO REG(?:ISTER)?\b",
    rf"\bFAIL\w* TO (?:REG|REGISTER)\b{_OTHER_REGISTRATION}",
    # Pennsylvania 18 § 4915 "FAIL TO COMPLY W/ REGISTRATION REQ".
    rf"\bFAIL\w* TO COMPLY WITH (?:\w+ )?REGISTRATION\b{_OTHER_REGISTRATION}",
    r"\bREGISTRATION\b.*\bSEXUAL\b|\bSEXUAL\b.*\bREGISTRATION\b",
)
# Kinds of supervised release whose violation is a court event.
_SUPERVISION = (
    r"(?:PROBATION|PAROLE|COMMUNITY SUPERVISION|SUPERVISED RELEASE|PRETRIAL RELEASE|CONDITIONAL RELEASE"
    r"|POST RELEASE SUPERVISION|POST RELEASE|COMMUNITY CONTROL|COMMUNITY CUSTODY|EXTENDED SUPERVISION"
    r"|SUPERVISION|RELEASE CONDITIONS|CONDITIONS OF RELEASE)"
)
_PROTECTIVE_ORDER = (
    r"\b(?:PROTECTIVE|RESTRAINING|PROTECTION|NO CONTACT|STAY AWAY|MAGISTRATES?) ORDERS?\b",
    r"\bORDERS? (?:OF|FOR) PROTECTION\b", r"\b(?:FAMILY|DOMESTIC|DATING) VIOLENCE ORDERS?\b",
    r"\bPROTECTION FROM ABUSE\b",
    # North Carolina General Statutes chapter 50B: domestic-violence protective orders.
    r"\b50B\b",
)


#: The general rules, in the order they are tried.
RULES: tuple[Rule, ...] = (
    # Court events come first: the charge *is* the motion, warrant or violation, whatever it names.
    rule("revocation", "court_supervision",
         r"\b(?:MOTION|PETITION) TO (?:REVOKE|ADJUDICATE)",
         rf"\b{_SUPERVISION} (?:VIOLATION|VIOLATOR|REVOCATION|REVOKED)",
         rf"\bVIOLATION (?:OF )?(?:THE )?(?:CONDITIONS OF )?{_SUPERVISION}",
         r"\bREVOCATION OF (?:PROBATION|PAROLE|SUPERVISION|BOND)",
         r"\bABSCOND\w*", r"\b(?:BLUE|PAROLE|PROBATION) WARRANT"),
    rule("failure-to-appear", "court_supervision",
         r"\bFAIL\w* TO APPEAR", r"\b(?:BAIL|BOND) JUMP\w*"),
    # Contempt is a court event, except contempt of a protective order ("INDIRECT CRIMINAL CONTEMPT - PFA").
    rule("contempt", "court_supervision",
         r"\bCONTEMPT\b", r"\bOBSTRUCT\w* (?:THE )?JUDICIARY\b",
         unless="|".join(_PROTECTIVE_ORDER)),
    rule("sex-offender-registration", "sex_offense_other", *_REGISTRATION),
    # A status ("HABITUAL FELON", "HABITUAL B&E STATUS OFFENDER") is not the offense it names.
    rule("habitual-status", "other",
         r"\bHABITUAL (?:VIOLENT )?(?:FELON|OFFENDER|CRIMINAL)", r"\bSTATUS OFFENDER\b"),
    # A child victim wins over every adult sexual offense.
    rule("child-statutory", "sex_offense_child",
         r"\bSTATUTORY (?:RAPE|SEXUAL|SODOMY)", r"\bUNLAWFUL SEXUAL INTERCOURSE"),
    rule("child-named-offense", "sex_offense_child",
         r"\bONLINE SOLICIT\w*", r"\bSOLICIT\w* (?:OF )?(?:AN? )?(?:MINOR|CHILD)\b", r"\bINDECENT LIBERTIES",
         r"\bCONTINUOUS SEXUAL ABUSE", r"\bCHILD PORNOGRAPH\w*", r"\bCHILD SEXUAL ABUSE",
         r"\bSEXUAL PERFORMANCE (?:BY|OF) (?:AN? )?(?:CHILD|MINOR)", r"\bSEXUAL EXPLOITATION OF (?:AN? )?(?:MINOR|CHILD)",
         r"\bCSAM\b", r"\bTRAVEL\w* TO MEET (?:AN? )?(?:MINOR|CHILD)",
         r"\b(?:ENTIC\w*|LUR\w*|COERC\w*)(?: AND| OR)?(?: \w+){0,2} (?:OF )?(?:AN? )?(?:MINOR|CHILD)\b",
         r"\bCOMMUNICAT\w* WITH (?:AN? )?MINOR\b", keeps_modifier=False),
    rule("child-sexual", "sex_offense_child", SEXUAL, requires=CHILD),
    rule("homicide", "homicide",
         r"\b(?:MURDER\w*|HOMICIDE|MANSLAUGHTER|FETICIDE)\b", r"\bWILLFUL KILL"),
    # Before the injury and death wording below: DESIGN §6 puts leaving the scene under traffic.
    rule("leaving-scene", "traffic",
         r"\bLEAV\w* (?:THE )?SCENE", r"\bHIT AND RUN\b", r"\bFSRA\b", r"\bFSGI\b",
         r"\bFAIL\w* TO (?:STOP AND )?(?:RENDER AID|GIVE INFORMATION|STOP AND GIVE)",
         r"\bACCIDENTS? INV\w* (?:DEATH|INJURY|SERIOUS|DAMAGE|PERSONAL)"),
    rule("homicide-death", "homicide",
         r"\b(?:CAUS\w*|RESULT\w* IN) (?:THE )?DEATH\b", r"\bDEATH BY (?:MOTOR )?VEHICLE"),
    # Illinois "AGG DUI/ACCIDENT/DEATH": impaired driving that killed someone.
    rule("dui-death", "homicide", r"\bDEATH\b",
         requires=r"\b(?:WHILE|UNDER) (?:THE )?(?:INTOXICATED|IMPAIRED|INFLUENCE|INTOXICATION)\b"),
    # The offense named keeps its category, whatever the burglar intended or carried
    # ("BURGLARY WITH INTENT TO COMMIT ASSAULT", "BURGLARY 3RD: ILLEGAL ENTRY W/INTENT").
    rule("burglary", "burglary",
         r"\bBURGLAR\w*", r"\bBREAK\w* (?:AND|OR) ENTER\w*", r"\bHOME INVASION",
         r"\bUNAUTHORIZED ENTRY OF (?:AN? )?INHABITED DWELLING", r"\bVEHICLE PROWL\w*",
         r"\bENTER\w* (?:AN? |THE )?(?:AUTO\w*|MOTOR VEHICLE|VEHICLE|CAR|DWELLING|BUILDING|HOUSE|RESIDENCE"
         r"|STRUCTURE|STORE)\b.*\bINTENT\b",
         # Florida 812.135 "HOME INVASION ROBBERY" is a robbery.
         unless=r"\bROBBERY\b"),
    rule("sexual-assault", "sexual_assault",
         r"\bRAPE\b", r"\bSEXUAL (?:ASSAULT|BATTERY|ABUSE|CONTACT|IMPOSITION|CONDUCT|MISCONDUCT|PENETRATION)",
         r"\bSODOMY\b", r"\bFONDL\w*", r"\bCARNAL\b", r"\bMOLEST\w*", r"\bINDECENT ASSAULT",
         r"\b(?:1ST|2ND|3RD|FIRST|SECOND|THIRD) DEGREE (?:FORCIBLE )?SEXUAL OFFENSE", r"\bFORCIBLE SEXUAL\b",
         r"\bORAL COPULATION", r"\bFORCIBLE TOUCHING", r"\bCRIMINAL SEXUAL ACT", r"\bDEVIATE SEXUAL",
         r"\bSEXUAL INTERCOURSE"),
    rule("kidnapping", "kidnapping",
         r"\bKIDNAP\w*", r"\bABDUCT\w*", r"\bHUMAN TRAFFICKING", r"\b(?:SEXUAL|LABOR) TRAFFICKING",
         r"\bTRAFFIC\w* (?:OF |IN )?(?:AN? )?(?:PERSONS?|HUMANS?|INDIVIDUALS?|PEOPLE)\b",
         r"\bFALSE IMPRISONMENT", r"\bUNLAWFUL IMPRISONMENT", r"\bUNLAWFUL(?:LY)? RESTRAIN\w*",
         r"\bFELONIOUS RESTRAINT", r"\bHOSTAGE", r"\bFORCED LABOR", r"\bINVOLUNTARY SERVITUDE", r"\bPEONAGE"),
    rule("robbery", "robbery",
         r"\bROBBERY\b", r"\bROB\b", r"\bROBBED\b", r"\bROBBING\b", r"\bCARJACK\w*", r"\bHIJACK\w*"),
    # Before assault: arson that injures, and extortion by threats, keep their own category.
    rule("arson", "arson_property_damage", r"\bARSON\w*"),
    rule("extortion", "theft_fraud", r"\bEXTORT\w*", r"\bBLACKMAIL"),
    # Before assault: intimidating a witness is obstruction, not a threat offense.
    rule("witness-tampering", "obstruction",
         r"\b(?:TAMPER\w*|INTIMIDAT\w*|HARASS\w*|INFLUENC\w*|RETALIAT\w*|DISSUAD\w*) (?:WITH |OF )?(?:AN? )?"
         r"(?:VICTIM (?:OR |AND )?)?(?:WITNESS|JUROR|INFORMANT)",
         r"\bWITNESS (?:TAMPERING|INTIMIDATION)", r"\bOBSTRUCTION OF JUSTICE", r"\bRETALIATION\b"),
    rule("assault", "assault",
         r"\bASSAULT\w*", r"\bBATTERY\b", r"\bSTRANGL\w*|\bSTRANGULATION\b|\bCHOK\w*",
         r"\bIMPED\w* (?:NORMAL )?(?:BREATH\w*|CIRCULATION)", r"\bOBSTRUCT\w* (?:OF )?(?:\w+ )?(?:BREATH\w*|CIRCULATION)",
         r"\bTERRORISTIC\b", r"\bTHREAT\w*", r"\bMENAC\w*",
         r"\bINTIMIDAT\w*", r"\b(?:CYBER ?)?STALK\w*", r"\bDEADLY CONDUCT\b", r"\bMAYHEM\b", r"\bMAIM\w*",
         r"\bRECKLESS\w* ENDANGER\w*",
         r"\bINJURY (?:TO )?(?:AN? )?(?:CHILD|ELDERLY|DISABLED|INDIVIDUAL|PERSON)\b",
         r"\bBODILY INJURY\b", r"\bSERIOUS INJURY\b", r"\bCORPORAL INJURY\b", r"\bINFLICT\w*",
         r"\bCRUELTY (?:TO|TOWARD) (?:AN? )?(?:CHILD|JUVENILE|ELDERLY|WIFE|SPOUSE)", r"\bCHILD CRUELTY\b",
         r"\bCHILD ABUSE\b", r"\bABUSE OF (?:AN? )?(?:CHILD|ELDERLY|DISABLED|VULNERABLE)", r"\bELDER\w* ABUSE",
         r"\bVIOLENCE AGAINST (?:THE )?FAMILY"),
    # DESIGN §6: contraband in a correctional facility and bribery are "other", before weapons and drugs.
    rule("contraband-facility", "other",
         r"\bCONTRABAND\b", r"\bPROHIBITED (?:ITEM|SUBSTANCE|ARTICLE)S?\b",
         r"\b(?:IN|INTO) (?:AN? |THE )?(?:CORRECTIONAL|PENAL|DETENTION) (?:FACILITY|INSTITUTION)",
         r"\b(?:IN|INTO) (?:AN? |THE )?(?:JAIL|PRISON)\b", r"\b(?:JAIL|PRISON)(?: \w+)? PREMISES\b"),
    rule("bribery", "other", r"\bBRIB\w*"),
    rule("firearm-theft", "theft_fraud",
         r"\b(?:THEFT|LARCENY|STEAL\w*) (?:OF )?(?:AN? )?(?:FIREARM|GUN|HANDGUN|WEAPON)S?\b",
         r"\bSTOLEN (?:FIREARM|GUN|HANDGUN|WEAPON|PISTOL|RIFLE)S?\b"),
    # A weapon named in a trespass or disorderly conduct keeps that charge's category (public_order).
    rule("weapons", "weapons",
         r"\bFIREARMS?\b", r"\bWEAPONS?\b", r"\b(?:HAND|SHOT|MACHINE ?)?GUNS?\b", r"\bPISTOLS?\b",
         r"\bRIFLES?\b", r"\bAMMUNITION\b", r"\bEXPLOSIVE\w*", r"\bDESTRUCTIVE DEVICE",
         r"\bSWITCHBLADE", r"\bKNUCKLES\b", r"\bSILENCER", r"\bFELON IN POSSESSION",
         r"\bDISCHARG\w* (?:AN? |OF )?(?:FIREARM|WEAPON|GUN)", r"\bMACHINEGUNS?\b",
         r"\bBILLY(?: CLUB)?\b", r"\bBLACKJACKS?\b", r"\bDIRKS?\b", r"\bDAGGERS?\b", r"\bSTILETTOS?\b",
         r"\bNUNCHA\w*", r"\bSLUNG ?SHOTS?\b", r"\bSAWED OFF\b", r"\bSHORT BARRELL?ED\b", r"\bDEADLY MISSILE",
         r"\bSHOOT\w* (?:AT |INTO |IN |ON )?(?:AN? |THE )?(?:INHABITED |OCCUPIED |UNOCCUPIED )?"
         r"(?:DWELLING|BUILDING|VEHICLE|STRUCTURE|HOUSE|RESIDENCE|AIRCRAFT)",
         unless=r"\b(?:DISORDERLY|TRESPASS\w*)\b"),
    # Before the drug rules: "smuggling of persons" is immigration, not drug smuggling.
    rule("immigration-offense", "immigration",
         r"\bILLEGAL (?:RE)?ENTRY\b", r"\bREENTRY\b", r"\bILLEGAL(?:LY)? (?:RE)?ENTER\w*", r"\bREENTER\w*",
         r"\b8 ?USC ?(?:SEC )?132[456]\b", r"\b(?:ALIEN|HUMAN|PERSONS?) SMUGGLING",
         r"\bSMUGGLING (?:OF )?(?:PERSONS?|ALIENS?|HUMANS?|INDIVIDUALS)", r"\bALIENS?\b",
         r"\bFALSE (?:CLAIM (?:TO|OF) )?(?:US |UNITED STATES )?CITIZENSHIP", r"\bENTRY WITHOUT INSPECTION",
         r"\bIMMIGRATION (?:VIOLATION|OFFENSE|LAW)", r"\bFOUND IN (?:THE )?(?:US|UNITED STATES) AFTER",
         # Texas Penal Code 20.07: a stash house for smuggled persons.
         r"\bSTASH HOUSE"),
    rule("drug-trafficking", "drug_trafficking",
         r"\bDRUG TRAFFICKING\b", r"\bTRAFFICKING\b", r"\bTRAFFICKERS?\b",
         unless=r"\b(?:STOLEN|PROPERTY|FIREARMS?|IDENTIT\w*|COUNTERFEIT\w*|PERSONS?|HUMANS?)\b"),
    rule("drug-delivery", "drug_trafficking", DRUG_ACTION, requires=DRUG,
         unless=r"\bDRIV\w* (?:WHILE|UNDER)\b|\bGAMBL\w*"),
    # Pennsylvania "MFG/DEL/POSS W/INT" names no drug: the intent to deliver is the offense.
    rule("drug-intent", "drug_trafficking",
         r"\bPOSSESSION (?:\w+ ){0,3}?WITH (?:THE )?INTENT (?:TO )?(?:MANUFACTURE|DELIVER|DISTRIBUTE|SELL|DISPENSE)",
         r"\bMANUFACTURE (?:AND |OR )?DELIVER\w*",
         unless=r"\b(?:STOLEN|FORGE\w*|COUNTERFEIT\w*|FIREARMS?|WEAPONS?|EXPLOSIVE\w*|TOOLS?|INSTRUMENTS?"
                r"|DEFRAUD|PORNOGRAPH\w*|OBSCEN\w*|GAMBL\w*)\b"),
    rule("property-damage", "arson_property_damage",
         r"\bARSON\w*", r"\bMISCHIEF\b", r"\bVANDAL\w*", r"\bGRAFFITI", r"\bCRIMINAL DAMAGE",
         r"\b(?:DAMAGE|DAMAGING|DESTRUCTION|DESTROY\w*|INJURY) (?:TO |OF )?(?:REAL |PERSONAL |PUBLIC |PRIVATE )?PROPERTY\b",
         r"\bDAMAG(?:E|ED|ES|ING)\b",
         r"\bRECKLESS BURNING", r"\bBURNING (?:OF )?(?:AN? )?(?:DWELLING|BUILDING|PROPERTY|VEHICLE|STRUCTURE)",
         r"\bBURN(?:S|ED|ING)? (?:OF |TO )?(?:AN? |THE )?(?:\w+ )?(?:PROPERTY|CHURCH|BUILDING|DWELLING|HOUSE"
         r"|STRUCTURE|VEHICLE|BARN|CROPS?|WOODS|LANDS?)\b",
         r"\bBURN\w* TO DEFRAUD", r"\b(?:CAUS|SET|START)\w* (?:AN? )?FIRES?\b"),
    # Before dui: "DRIVING WHILE LICENSE SUSPENDED - DUI RELATED" is a licence offense.
    rule("license-suspended", "traffic",
         r"\bDRIV\w* (?:WHILE|WITH|ON|DURING) (?:AN? )?(?:(?!INTOXICATED|IMPAIRED|INFLUENCE)\w+ ){0,2}?"
         r"(?:LICENSE|PRIVILEGES?) (?:\w+ ){0,2}?(?:SUSPENDED|REVOKED|INVALID|CANCELL?ED|DISQUALIFIED"
         r"|SUSPENSION|REVOCATION)",
         r"\bDRIV\w* (?:WHILE|WITH|ON|DURING) (?:AN? )?(?:SUSPENDED|REVOKED|INVALID|CANCELL?ED)"),
    rule("dui", "dui",
         r"\b(?:DRIV\w*|OPERAT\w*|BOATING|FLYING)\b(?: \w+){0,4} (?:WHILE|UNDER) (?:THE )?"
         r"(?:INTOXICATED|IMPAIRED|INFLUENCE|ABILITY IMPAIRED|INTOXICATION)\b",
         r"\bOPERATING VEHICLE IMPAIRED\b", r"\bDRUNK(?:EN)? DRIVING\b", r"\bIMPAIRED DRIVING\b",
         r"\bINTOXICATED DRIVING\b", r"\bDRIV\w* AFTER (?:CONSUMING|DRINKING)",
         r"\bPHYSICAL CONTROL\b.*\b(?:INFLUENCE|INTOXICATED|IMPAIRED)\b",
         # New York VTL 1192.2 "OPERATING MV W/.08 OF 1% ALCOHOL": a blood-alcohol level while driving.
         r"\b(?:DRIV\w*|OPERAT\w*)\b(?: \w+){0,4} (?:WITH|WHILE|HAVING) (?:\w+ ){0,4}?(?:ALCOHOL|BAC)\b"
         r"(?!.*\b(?:CONTAINER|OPEN)\b)"),
    rule("drug-possession", "drug_possession",
         r"\bPOSSESS\w*", r"\bUSE\b", r"\bUSING\b", r"\bCONSUM\w*", r"\bUNDER THE INFLUENCE\b",
         requires=DRUG, unless=r"\bGAMBL\w*"),
    rule("drug-paraphernalia", "drug_possession", r"\bPARAPHERNALIA\b", r"\bHYPODERMIC\b", r"\bSYRINGES?\b",
         unless=r"\bGAMBL\w*"),
    rule("theft-fraud", "theft_fraud",
         r"\bTHEFTS?\b", r"\bLARCEN\w*", r"\bSHOPLIFT\w*", r"\bSTEAL\w*", r"\bSTOLEN\b",
         r"\bUNAUTHORIZED USE\b", r"\bJOY ?RID\w*", r"\bEMBEZZL\w*", r"\bFRAUD\w*", r"\bDEFRAUD\w*",
         r"\bFORGE\w*", r"\bCOUNTERFEIT\w*", r"\bFALSE PRETEN\w*",
         r"\b(?:WORTHLESS|BAD|INSUFFICIENT FUNDS?|FICTITIOUS|FORGED) CHECKS?\b",
         r"\bCREDIT CARD (?:ABUSE|FRAUD|THEFT)", r"\bDEBIT CARD\b", r"\bACCESS DEVICE", r"\bEXTORT\w*", r"\bBLACKMAIL",
         r"\bPICKPOCKET\w*|\bPOCKETPICKING\b", r"\bPURSE SNATCH\w*", r"\bJOSTLING\b", r"\bRECEIV\w* STOLEN",
         r"\bMONEY LAUNDERING\b", r"\bSWINDL\w*", r"\bCONFIDENCE GAME", r"\bUTTER\w*",
         r"\bGOVERNMENT(?:AL)? RECORD", r"\bSECUR\w* EXECUTION OF (?:AN? )?DOCUMENT",
         r"\b(?:IDENTIFYING|IDENTIFICATION) INFORMATION", r"\bTAK\w* (?:THE )?IDENTITY\b",
         r"\bTAK\w* (?:\w+ ){0,3}WITHOUT (?:\w+ ){0,2}(?:CONSENT|PERMISSION)",
         r"\bMISAPPLICATION\b", r"\bTHEFT OF SERVICE"),
    rule("sexual-other", "sex_offense_other",
         r"\bSEXUAL OFFENSE\b", r"\bINDECEN\w*", r"\bLEWD\w*", r"\bPROSTITUT\w*", r"\bPIMP\w*",
         r"\bPANDER\w*", r"\bCOMMERCIAL(?:IZED)? SEX\w*", r"\bHOUSE OF ILL FAME", r"\bBROTHEL",
         r"\bVOYEUR\w*", r"\bPEEPING\b", r"\bOBSCEN\w*", r"\bINCEST\b", r"\bBESTIALITY",
         r"\bINVASIVE VISUAL RECORDING", r"\bSEXTING\b", r"\bINTIMATE (?:VISUAL|IMAGES?|PHOTO\w*|RECORDING)",
         r"\bREVENGE PORN", r"\bEXPOS\w* (?:OF )?(?:SEXUAL ORGANS?|GENITAL\w*|PRIVATE PARTS|HIMSELF|HERSELF)",
         r"\bSOLICIT\w* (?:OF )?(?:AN? )?(?:SEXUAL|SEX) ACTS?\b", keeps_modifier=False),
    # Before obstruction: blocking a road is a public-order offense.
    rule("obstructing-passage", "public_order",
         r"\bOBSTRUCT\w* (?:AN? |THE )?(?:PUBLIC )?(?:HIGHWAY|PASSAGEWAY|SIDEWALK|STREET|ROADWAY|TRAFFIC)"),
    rule("obstruction", "obstruction",
         r"\bRESIST\w*", r"\bEVAD\w*", r"\bELUD\w*", r"\bFLEE\w*", r"\bFLIGHT\b", r"\bOBSTRUCT\w*",
         r"\bHINDER\w*", r"\bFAIL\w* TO IDENTIFY", r"\bGIVING FALSE\b",
         r"\bFALSE (?:OR MISLEADING )?(?:REPORT\w*|INFORMATION|STATEMENT|NAME|IDENTIF\w*|ALARM)",
         r"\bMISLEADING STATEMENT",
         r"\bESCAPE\w*", r"\b(?:TAMPER\w*|DESTROY\w*|CONCEAL\w*|DESTRUCTION) (?:WITH |OF )?(?:PHYSICAL )?EVIDENCE",
         r"\bFABRICAT\w* (?:PHYSICAL )?EVIDENCE", r"\bACCESSORY AFTER",
         r"\bPERJURY\b", r"\bDELAY\w* (?:AN )?OFFICER",
         r"\bINTERFER\w* (?:WITH )?(?:AN? )?(?:OFFICER|POLICE|PUBLIC DUTIES|PEACE OFFICER|EMERGENCY|LAW ENFORCEMENT)",
         r"\bHARBOR\w* (?:AN? )?(?:FUGITIVE|RUNAWAY)",
         r"\b(?:IMPERSONAT\w*|PERSONATION OF) (?:AN? )?(?:PUBLIC SERVANT|OFFICER|POLICE|PEACE OFFICER|LAW ENFORCEMENT)",
         r"\bREFUS\w* TO (?:OBEY|IDENTIFY)"),
    rule("impersonation", "theft_fraud", r"\bIMPERSONAT\w*", r"\bPERSONATION\b"),
    # Before the bond rule: Texas "VIOL BOND/PROTECTIVE ORDER" is a protective-order violation.
    rule("protective-order", "public_order", *_PROTECTIVE_ORDER),
    rule("bond-violation", "court_supervision",
         r"\bBOND (?:VIOLATION|REVO\w*|SURRENDER|FORFEIT\w*|CONDITIONS)", r"\bVIOLATION (?:OF )?(?:BOND|BAIL)\b",
         r"\bSURETY SURRENDER", r"\bOFF BOND\b", r"\bINSUFFICIENT BOND", r"\bBOND INSUFFICIENT",
         r"\bCOURT ORDER", r"\bCOMMITMENT\b", r"\bSERV\w* (?:SENTENCE|TIME|WEEKENDS?)\b", r"\bSAFEKEEP\w*"),
    rule("traffic", "traffic",
         r"\bDRIVING WHILE (?:LICENSE|SUSPENDED|REVOKED)", r"\bDRIVING (?:WITH|ON) (?:AN? )?(?:SUSPENDED|REVOKED|INVALID|CANCELL?ED|EXPIRED)",
         r"\bDRIVING WITHOUT\b", r"\bNO (?:VALID )?(?:DRIVERS? |OPERATORS? )?LICENSE\b", r"\bUNLICENSED\b",
         r"\b(?:DRIV\w*|OPERAT\w*)(?: \w+){0,3} WITHOUT (?:AN? )?(?:VALID )?(?:DRIVERS? |OPERATORS? )?"
         r"(?:LICENSE|INSURANCE|REGISTRATION|IGNITION)",
         r"\bLICENSE (?:SUSPENDED|REVOKED|INVALID)", r"\bNO (?:PROOF OF )?(?:LIABILITY )?INSURANCE\b",
         r"\bUNINSURED\b", r"\bUNREGISTERED\b", r"\bIGNITION INTERLOCK",
         r"\bFINANCIAL RESPONSIBILITY", r"\bFAIL\w* TO MAINTAIN\b", r"\bSPEED(?:ING)?\b",
         r"\b(?:EXCESSIVE|UNSAFE) SPEED", r"\bTOO FAST\b", r"\bRECKLESS DRIVING", r"\bCARELESS DRIVING", r"\bRACING\b",
         r"\bTRAFFIC\b", r"\bRED LIGHT", r"\bSTOP SIGN", r"\bSEAT ?BELT", r"\bMOVING VIOLATION",
         r"\bFAIL\w* TO (?:HEED|YIELD|SIGNAL|DIM)\b", r"\bDEFECTIVE\b", r"\bEQUIPMENT VIOLATION",
         r"\b(?:TAIL|HEAD|BRAKE) ?(?:LAMPS?|LIGHTS?)\b",
         r"\bCHILD (?:PASSENGER|SAFETY|RESTRAINT)\b", r"\b(?:CAR|SAFETY) SEAT\b",
         r"\bIMPROPER (?:LANE|TURN|PASSING|START|BACKING)", r"\bFOLLOWING TOO CLOSE", r"\bWRONG WAY",
         r"\b(?:EXPIRED|FICTITIOUS|ALTERED|IMPROPER|SUSPENDED|REVOKED|NO) (?:\w+ ){0,3}?"
         r"(?:TAGS?|PLATES?|REGISTRATION|TITLE|INSPECTION)\b",
         r"\bREGISTRATION CARD\b", r"\bTAGS? NOT ASSIGNED\b", r"\bATTACH\w* (?:\w+ )?(?:TAGS?|PLATES?)\b",
         r"\bVEHICLE REGISTRATION\b", r"\bREGISTER\w* (?:AN? |THE )?(?:MOTOR )?VEHICLE\b"),
    rule("public-intoxication", "public_order", r"\bINTOXICAT\w*", r"\bDRUNK\w*",
         unless=r"\b(?:DRIV\w*|OPERAT\w*|BOATING|FLYING)\b"),
    rule("public-order", "public_order",
         r"\bDISORDERLY", r"\bDISTURB\w* (?:THE )?PEACE",
         r"\bBREACH (?:OF )?(?:THE )?PEACE", r"\bTRESPASS\w*", r"\bLOITER\w*", r"\bVAGRAN\w*",
         r"\bPANHANDL\w*", r"\bORDINANCE", r"\bNOISE\b", r"\bMINOR IN (?:POSSESSION|CONSUMPTION)",
         r"\bMIP\b", r"\b(?:ALCOHOL\w*|LIQUOR|BEER)\b", r"\bOPEN CONTAINER", r"\bGAMBL\w*",
         r"\bBOOKMAK\w*", r"\bLOTTERY\b", r"\bGAMING\b", r"\bRIOT\w*", r"\bUNLAWFUL ASSEMBLY",
         r"\b(?:FAIL\w*|REFUS\w*) TO DISPERSE", r"\bLODGING\b",
         r"\b(?:ABUSIVE|ANNOYING|HARASSING|SILENT|OBSCENE|REPEATED) (?:\w+ ){0,2}?(?:PHONE |TELEPHONE )?CALLS?\b",
         r"\bHARASSING COMMUNICATIONS?\b", r"\bMISUSE OF 911\b|\b911 (?:CALLS?|SERVICE|MISUSE)\b|\bCALLS? TO 911\b",
         r"\bHARASSMENT\b", r"\bCURFEW\b", r"\bURINAT\w*", r"\bLITTER\w*", r"\bILLEGAL DUMPING\b", r"\bANIMALS?\b",
         r"\bAFFRAY\b", r"\bNUISANCE\b", r"\bTRUANCY\b", r"\bRUNAWAY\b", r"\bTOBACCO\b", r"\bFIREWORKS\b"),
    rule("known-other", "other",
         r"\bENDANGER\w*", r"\bABANDON\w* (?:AN? )?(?:CHILD|MINOR)", r"\bNON ?SUPPORT\b",
         r"\bRACKETEER\w*|\bRICO\b", r"\bORGANIZED CRIM\w*", r"\bTERRORISM\b", r"\bTAX EVASION",
         r"\bHABITUAL FELON", r"\bDELINQUENCY OF (?:AN? )?MINOR"),
    # Last of the strong rules: a "DV"/"family violence" tag names the relationship, not the offense,
    # so it decides only when nothing else does ("MALICIOUS MISCHIEF - DV" is property damage).
    rule("family-violence", "assault", r"\b(?:DOMESTIC|FAMILY|DATING) VIOLENCE\b",
         unless="|".join(_PROTECTIVE_ORDER)),
    # Weak: only when nothing stronger (and no offense code) says what the hold is for.
    rule("warrant-or-hold", "court_supervision",
         r"\bWARRANTS?\b", r"\bCAPIAS\b", r"\bHOLDS?\b", r"\bDETAINERS?\b", r"\bFUGITIVE\b",
         r"\bEXTRADIT\w*", r"\bORDER FOR ARREST\b", r"\bOUT OF (?:COUNTY|STATE|TOWN)\b", r"\bOTHER AGENCY\b", r"\bWRIT\b",
         r"\bPAROLE\b", r"\bPROBATION\b", r"\bTDCJ\b", r"\bUS MARSHALS?\b|\bUSMS\b", r"\bPICK ?UP ORDER\b",
         weak=True),
    rule("drug-unspecified", "drug_possession", DRUG, weak=True, unless=r"\bGAMBL\w*"),
)


#: State-specific rules, tried before the general ones when the source's state is known.
STATE_RULES: dict[str, tuple[Rule, ...]] = {
    # 18 Pa.C.S. § 2709 (harassment) sits in the Assault chapter; elsewhere it is a public-order offense.
    "PA": (rule("harassment", "assault", r"\bHARASSMENT\b",
                unless=r"\bWITNESS\b"),),
}


def matching_rules(text: str, state: str | None = None) -> list[tuple[str, Rule]]:
    """Every rule that matches normalised `text`, in order, each with its rule string ("text:assault")."""
    found: list[tuple[str, Rule]] = []
    if state and state in STATE_RULES:
        found.extend((f"state:{state}:{r.name}", r) for r in STATE_RULES[state] if r.matches(text))
    found.extend((f"text:{r.name}", r) for r in RULES if r.matches(text))
    return found
