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
    r"|\bYOUNGER THAN (?:[1-9]|1[0-7])\b"
)
CHILD_RE = re.compile(CHILD)
_SEXUAL = (
    r"\b(?:SEXUAL|SEXUALLY|RAPE|INDECENCY|INDECENT|MOLEST\w*|SODOMY|PORNOGRAPH\w*|OBSCEN\w*|LEWD\w*"
    r"|LASCIVIOUS|FONDL\w*|CARNAL|INCEST|PROSTITUT\w*)\b"
)
_DRUG = (
    r"\b(?:CONTROLLED|SUBSTANCES?|MARIJUANA|COCAINE|CRACK|HEROIN|FENTANYL|METHAMPHETAMINE|AMPHETAMINES?"
    r"|OPIUM|OPIATES?|OPIOIDS?|NARCOTICS?|DRUGS?|PENALTY GROUP|SCHEDULE|SCH|CANNABIS|THC|HASHISH|MDMA"
    r"|ECSTASY|LSD|PCP|OXYCODONE|HYDROCODONE|MORPHINE|CODEINE|ALPRAZOLAM|XANAX|PSILOCYBIN|MUSHROOMS"
    r"|SYNTHETIC CANNABINOIDS?|K2|SPICE|PARAPHERNALIA|INHALANTS?|VOLATILE CHEMICALS?|DANGEROUS DRUGS?)\b"
)
_DRUG_ACTION = (
    r"\b(?:MANUFACTUR\w*|DELIVERY|DELIVER\w*|DISTRIBUT\w*|SELL\w*|SALES?|SOLD|TRAFFIC|TRAFFICK\w*"
    r"|SMUGGL\w*|IMPORT\w*|CULTIVAT\w*|PRODUC\w*|INTENT|DISPENS\w*|TRANSPORT\w*|FURNISH\w*)\b"
)
_REGISTRATION = (
    r"\bSEXUAL (?:OFFENDERS?|OFF|OFFNDR|PREDATORS?|REGISTRANTS?)\b", r"\bDUTY TO REG(?:ISTER)?\b",
    r"\bFAIL\w* TO (?:REG|REGISTER)\b(?!.*\b(?:VEHICLE|BOAT|VESSEL|VOTER|DOG|FIREARM)\b)",
    r"\bREGISTRATION\b.*\bSEXUAL\b|\bSEXUAL\b.*\bREGISTRATION\b",
)


#: The general rules, in the order they are tried.
RULES: tuple[Rule, ...] = (
    # Court events come first: the charge *is* the motion, warrant or violation, whatever it names.
    rule("revocation", "court_supervision",
         r"\bMOTION TO (?:REVOKE|ADJUDICATE)",
         r"\b(?:PROBATION|PAROLE|COMMUNITY SUPERVISION|SUPERVISED RELEASE|PRETRIAL RELEASE|CONDITIONAL RELEASE)"
         r" (?:VIOLATION|VIOLATOR|REVOCATION|REVOKED)",
         r"\bVIOLATION (?:OF )?(?:THE )?(?:CONDITIONS OF )?(?:PROBATION|PAROLE|COMMUNITY SUPERVISION"
         r"|SUPERVISED RELEASE|PRETRIAL RELEASE|CONDITIONAL RELEASE|RELEASE CONDITIONS|CONDITIONS OF RELEASE)",
         r"\bREVOCATION OF (?:PROBATION|PAROLE|SUPERVISION|BOND)",
         r"\bABSCOND\w*", r"\b(?:BLUE|PAROLE|PROBATION) WARRANT"),
    rule("failure-to-appear", "court_supervision",
         r"\bFAIL\w* TO APPEAR", r"\b(?:BAIL|BOND) JUMP\w*", r"\bCONTEMPT\b"),
    rule("sex-offender-registration", "sex_offense_other", *_REGISTRATION),
    # A child victim wins over every adult sexual offense.
    rule("child-statutory", "sex_offense_child",
         r"\bSTATUTORY (?:RAPE|SEXUAL|SODOMY)"),
    rule("child-named-offense", "sex_offense_child",
         r"\bONLINE SOLICIT\w*", r"\bSOLICIT\w* (?:OF )?(?:AN? )?(?:MINOR|CHILD)\b", r"\bINDECENT LIBERTIES",
         r"\bCONTINUOUS SEXUAL ABUSE", r"\bCHILD PORNOGRAPH\w*", r"\bCHILD SEXUAL ABUSE",
         r"\bSEXUAL PERFORMANCE (?:BY|OF) (?:AN? )?(?:CHILD|MINOR)", r"\bSEXUAL EXPLOITATION OF (?:AN? )?(?:MINOR|CHILD)",
         r"\bCSAM\b", keeps_modifier=False),
    rule("child-sexual", "sex_offense_child", _SEXUAL, requires=CHILD),
    rule("homicide", "homicide",
         r"\b(?:MURDER\w*|HOMICIDE|MANSLAUGHTER|FETICIDE)\b", r"\bWILLFUL KILL"),
    # Before the injury and death wording below: DESIGN §6 puts leaving the scene under traffic.
    rule("leaving-scene", "traffic",
         r"\bLEAV\w* (?:THE )?SCENE", r"\bHIT AND RUN\b", r"\bFSRA\b", r"\bFSGI\b",
         r"\bFAIL\w* TO (?:STOP AND )?(?:RENDER AID|GIVE INFORMATION|STOP AND GIVE)",
         r"\bACCIDENT INV\w* (?:DEATH|INJURY|SERIOUS|DAMAGE|PERSONAL)"),
    rule("homicide-death", "homicide",
         r"\b(?:CAUS\w*|RESULT\w* IN) (?:THE )?DEATH\b", r"\bDEATH BY (?:MOTOR )?VEHICLE"),
    rule("sexual-assault", "sexual_assault",
         r"\bRAPE\b", r"\bSEXUAL (?:ASSAULT|BATTERY|ABUSE|CONTACT|IMPOSITION|CONDUCT|MISCONDUCT|PENETRATION)",
         r"\bSODOMY\b", r"\bFONDL\w*", r"\bCARNAL\b", r"\bMOLEST\w*", r"\bINDECENT ASSAULT",
         r"\b(?:1ST|2ND|3RD|FIRST|SECOND|THIRD) DEGREE (?:FORCIBLE )?SEXUAL OFFENSE", r"\bFORCIBLE SEXUAL\b"),
    rule("kidnapping", "kidnapping",
         r"\bKIDNAP\w*", r"\bABDUCT\w*", r"\bHUMAN TRAFFICKING", r"\b(?:SEXUAL|LABOR) TRAFFICKING",
         r"\bTRAFFIC\w* (?:OF |IN )?(?:AN? )?(?:PERSONS?|HUMANS?|INDIVIDUALS?|PEOPLE)\b",
         r"\bFALSE IMPRISONMENT", r"\bUNLAWFUL(?:LY)? RESTRAIN\w*", r"\bHOSTAGE"),
    rule("robbery", "robbery",
         r"\bROBBERY\b", r"\bROB\b", r"\bROBBED\b", r"\bROBBING\b", r"\bCARJACK\w*"),
    # Before assault: intimidating a witness is obstruction, not a threat offense.
    rule("witness-tampering", "obstruction",
         r"\b(?:TAMPER\w*|INTIMIDAT\w*|HARASS\w*|INFLUENC\w*|RETALIAT\w*) (?:WITH |OF )?(?:AN? )?(?:WITNESS|JUROR|INFORMANT)",
         r"\bWITNESS (?:TAMPERING|INTIMIDATION)", r"\bOBSTRUCTION OF JUSTICE", r"\bRETALIATION\b"),
    rule("assault", "assault",
         r"\bASSAULT\w*", r"\bBATTERY\b", r"\bSTRANGL\w*|\bSTRANGULATION\b|\bCHOK\w*",
         r"\bIMPED\w* (?:NORMAL )?(?:BREATH\w*|CIRCULATION)", r"\bTERRORISTIC\b", r"\bTHREAT\w*",
         r"\bINTIMIDAT\w*", r"\b(?:CYBER ?)?STALK\w*", r"\bDEADLY CONDUCT\b", r"\bMAYHEM\b", r"\bMAIM\w*",
         r"\bINJURY (?:TO )?(?:AN? )?(?:CHILD|ELDERLY|DISABLED|INDIVIDUAL|PERSON)\b",
         r"\bBODILY INJURY\b", r"\bSERIOUS INJURY\b", r"\bINFLICT\w*",
         r"\bCRUELTY (?:TO|TOWARD) (?:AN? )?(?:CHILD|JUVENILE|ELDERLY|WIFE|SPOUSE)",
         r"\bCHILD ABUSE\b", r"\bABUSE OF (?:AN? )?(?:CHILD|ELDERLY|DISABLED|VULNERABLE)", r"\bELDER\w* ABUSE"),
    # DESIGN §6: contraband in a correctional facility and bribery are "other", before weapons and drugs.
    # "Family violence" names an assault, except as the kind of protective order violated.
    rule("family-violence", "assault", r"\b(?:DOMESTIC|FAMILY|DATING) VIOLENCE\b",
         unless=r"\b(?:PROTECTIVE|RESTRAINING|PROTECTION|NO CONTACT) ORDER"),
    rule("contraband-facility", "other",
         r"\bCONTRABAND\b", r"\bPROHIBITED (?:ITEM|SUBSTANCE|ARTICLE)S?\b",
         r"\b(?:IN|INTO) (?:AN? |THE )?(?:CORRECTIONAL|PENAL|DETENTION) (?:FACILITY|INSTITUTION)",
         r"\b(?:IN|INTO) (?:AN? |THE )?(?:JAIL|PRISON)\b"),
    rule("bribery", "other", r"\bBRIB\w*"),
    rule("firearm-theft", "theft_fraud",
         r"\b(?:THEFT|LARCENY|STEAL\w*) (?:OF )?(?:AN? )?(?:FIREARM|GUN|HANDGUN|WEAPON)S?\b"),
    rule("weapons", "weapons",
         r"\bFIREARMS?\b", r"\bWEAPONS?\b", r"\b(?:HAND|SHOT|MACHINE )?GUNS?\b", r"\bPISTOLS?\b",
         r"\bRIFLES?\b", r"\bAMMUNITION\b", r"\bEXPLOSIVE\w*", r"\bDESTRUCTIVE DEVICE",
         r"\bSWITCHBLADE", r"\bKNUCKLES\b", r"\bSILENCER", r"\bFELON IN POSSESSION",
         r"\bDISCHARG\w* (?:AN? |OF )?(?:FIREARM|WEAPON|GUN)"),
    # Before the drug rules: "smuggling of persons" is immigration, not drug smuggling.
    rule("immigration-offense", "immigration",
         r"\bILLEGAL (?:RE)?ENTRY\b", r"\bREENTRY\b", r"\bILLEGAL(?:LY)? (?:RE)?ENTER\w*", r"\bREENTER\w*",
         r"\b8 ?USC ?(?:SEC )?132[456]\b", r"\b(?:ALIEN|HUMAN|PERSONS?) SMUGGLING",
         r"\bSMUGGLING (?:OF )?(?:PERSONS?|ALIENS?|HUMANS?|INDIVIDUALS)",
         r"\b(?:HARBOR\w*|TRANSPORT\w*) (?:OF )?(?:AN? )?(?:ILLEGAL )?ALIENS?\b",
         r"\bFALSE (?:CLAIM (?:TO|OF) )?CITIZENSHIP", r"\bENTRY WITHOUT INSPECTION", r"\bILLEGAL ALIEN",
         r"\bIMMIGRATION (?:VIOLATION|OFFENSE|LAW)"),
    rule("drug-trafficking", "drug_trafficking",
         r"\bDRUG TRAFFICKING\b", r"\bTRAFFICKING\b",
         unless=r"\b(?:STOLEN|PROPERTY|FIREARMS?|IDENTIT\w*|COUNTERFEIT\w*|PERSONS?|HUMANS?)\b"),
    rule("drug-delivery", "drug_trafficking", _DRUG_ACTION, requires=_DRUG,
         unless=r"\bDRIV\w* (?:WHILE|UNDER)\b"),
    rule("burglary", "burglary",
         r"\bBURGLAR\w*", r"\bBREAK\w* (?:AND|OR) ENTER\w*", r"\bHOME INVASION",
         r"\bUNAUTHORIZED ENTRY OF (?:AN? )?INHABITED DWELLING"),
    rule("property-damage", "arson_property_damage",
         r"\bARSON\w*", r"\bMISCHIEF\b", r"\bVANDAL\w*", r"\bGRAFFITI", r"\bCRIMINAL DAMAGE",
         r"\b(?:DAMAGE|DAMAGING|DESTRUCTION|DESTROY\w*|INJURY) (?:TO |OF )?(?:REAL |PERSONAL |PUBLIC |PRIVATE )?PROPERTY\b",
         r"\bRECKLESS BURNING", r"\bBURNING (?:OF )?(?:AN? )?(?:DWELLING|BUILDING|PROPERTY|VEHICLE|STRUCTURE)"),
    rule("dui", "dui",
         r"\b(?:DRIV\w*|OPERAT\w*|BOATING|FLYING)\b(?: \w+){0,4} (?:WHILE|UNDER) (?:THE )?"
         r"(?:INTOXICATED|IMPAIRED|INFLUENCE|ABILITY IMPAIRED|INTOXICATION)\b",
         r"\bOPERATING VEHICLE IMPAIRED\b", r"\bDRUNK(?:EN)? DRIVING\b", r"\bIMPAIRED DRIVING\b",
         r"\bINTOXICATED DRIVING\b"),
    rule("drug-possession", "drug_possession",
         r"\bPOSSESS\w*", r"\bUSE\b", r"\bUSING\b", r"\bCONSUM\w*", r"\bUNDER THE INFLUENCE\b",
         requires=_DRUG),
    rule("drug-paraphernalia", "drug_possession", r"\bPARAPHERNALIA\b"),
    rule("theft-fraud", "theft_fraud",
         r"\bTHEFTS?\b", r"\bLARCEN\w*", r"\bSHOPLIFT\w*", r"\bSTEAL\w*", r"\bSTOLEN\b",
         r"\bUNAUTHORIZED USE\b", r"\bJOY ?RID\w*", r"\bEMBEZZL\w*", r"\bFRAUD\w*", r"\bFORGE\w*",
         r"\bCOUNTERFEIT\w*", r"\bFALSE PRETEN\w*", r"\b(?:WORTHLESS|BAD|INSUFFICIENT FUNDS?) CHECKS?\b",
         r"\bCREDIT CARD (?:ABUSE|FRAUD|THEFT)", r"\bDEBIT CARD\b", r"\bEXTORT\w*", r"\bBLACKMAIL",
         r"\bPICKPOCKET\w*|\bPOCKETPICKING\b", r"\bPURSE SNATCH\w*", r"\bRECEIV\w* STOLEN",
         r"\bMONEY LAUNDERING\b", r"\bSWINDL\w*", r"\bCONFIDENCE GAME", r"\bUTTER\w*",
         r"\bGOVERNMENT(?:AL)? RECORD", r"\bSECUR\w* EXECUTION OF (?:AN? )?DOCUMENT", r"\bIDENTIFYING INFORMATION",
         r"\bMISAPPLICATION\b", r"\bTHEFT OF SERVICE"),
    rule("sexual-other", "sex_offense_other",
         r"\bSEXUAL OFFENSE\b", r"\bINDECEN\w*", r"\bLEWD\w*", r"\bPROSTITUT\w*", r"\bPIMP\w*",
         r"\bPANDER\w*", r"\bCOMMERCIAL(?:IZED)? SEX\w*", r"\bHOUSE OF ILL FAME", r"\bBROTHEL",
         r"\bVOYEUR\w*", r"\bPEEPING\b", r"\bOBSCEN\w*", r"\bINCEST\b", r"\bBESTIALITY",
         r"\bINVASIVE VISUAL RECORDING", r"\bSEXTING\b", keeps_modifier=False),
    rule("obstruction", "obstruction",
         r"\bRESIST\w*", r"\bEVAD\w*", r"\bELUD\w*", r"\bFLEE\w*", r"\bFLIGHT\b", r"\bOBSTRUCT\w*",
         r"\bHINDER\w*", r"\bFAIL\w* TO IDENTIFY", r"\bGIVING FALSE\b",
         r"\bFALSE (?:REPORT\w*|INFORMATION|STATEMENT|NAME|IDENTIFICATION|ALARM)",
         r"\bESCAPE\w*", r"\bTAMPER\w* (?:WITH )?(?:PHYSICAL )?EVIDENCE", r"\bFABRICAT\w* (?:PHYSICAL )?EVIDENCE",
         r"\bPERJURY\b", r"\bDELAY\w* (?:AN )?OFFICER",
         r"\bINTERFER\w* (?:WITH )?(?:AN? )?(?:OFFICER|POLICE|PUBLIC DUTIES|PEACE OFFICER|EMERGENCY|LAW ENFORCEMENT)",
         r"\bHARBOR\w* (?:AN? )?(?:FUGITIVE|RUNAWAY)",
         r"\bIMPERSONAT\w* (?:AN? )?(?:PUBLIC SERVANT|OFFICER|POLICE|PEACE OFFICER|LAW ENFORCEMENT)",
         r"\bREFUS\w* TO (?:OBEY|DISPERSE|IDENTIFY)"),
    rule("impersonation", "theft_fraud", r"\bIMPERSONAT\w*"),
    # Before the bond rule: Texas "VIOL BOND/PROTECTIVE ORDER" is a protective-order violation.
    rule("protective-order", "public_order",
         r"\b(?:PROTECTIVE|RESTRAINING|PROTECTION|NO CONTACT|STAY AWAY|MAGISTRATES?) ORDERS?\b"),
    rule("bond-violation", "court_supervision",
         r"\bBOND (?:VIOLATION|REVO\w*|SURRENDER|FORFEIT\w*|CONDITIONS)", r"\bVIOLATION (?:OF )?(?:BOND|BAIL)\b",
         r"\bSURETY SURRENDER", r"\bOFF BOND\b", r"\bINSUFFICIENT BOND", r"\bBOND INSUFFICIENT",
         r"\bCOURT ORDER", r"\bCOMMITMENT\b", r"\bSERV\w* (?:SENTENCE|TIME|WEEKENDS?)\b"),
    rule("traffic", "traffic",
         r"\bDRIVING WHILE (?:LICENSE|SUSPENDED|REVOKED)", r"\bDRIVING (?:WITH|ON) (?:AN? )?(?:SUSPENDED|REVOKED|INVALID|CANCELL?ED|EXPIRED)",
         r"\bDRIVING WITHOUT\b", r"\bNO (?:VALID )?(?:DRIVERS? )?LICENSE\b", r"\bUNLICENSED\b",
         r"\bLICENSE (?:SUSPENDED|REVOKED|INVALID)", r"\bNO (?:PROOF OF )?INSURANCE\b",
         r"\bFINANCIAL RESPONSIBILITY", r"\bFAIL\w* TO MAINTAIN\b", r"\bSPEEDING\b", r"\bSPEED (?:LIMIT|\d+)",
         r"\b(?:EXCESSIVE|UNSAFE) SPEED", r"\bRECKLESS DRIVING", r"\bCARELESS DRIVING", r"\bRACING\b",
         r"\bTRAFFIC\b", r"\bRED LIGHT", r"\bSTOP SIGN", r"\bSEAT ?BELT", r"\bMOVING VIOLATION",
         r"\bIMPROPER (?:LANE|TURN|PASSING|START|BACKING)", r"\bFOLLOWING TOO CLOSE", r"\bWRONG WAY",
         r"\b(?:EXPIRED|FICTITIOUS) (?:TAGS?|PLATES?|REGISTRATION|LICENSE|INSPECTION)",
         r"\bVEHICLE REGISTRATION\b", r"\bREGISTER\w* (?:AN? |THE )?(?:MOTOR )?VEHICLE\b"),
    rule("public-intoxication", "public_order", r"\bINTOXICAT\w*", r"\bDRUNK\w*",
         unless=r"\b(?:DRIV\w*|OPERAT\w*|BOATING|FLYING)\b"),
    rule("public-order", "public_order",
         r"\bDISORDERLY", r"\bDISTURB\w* (?:THE )?PEACE",
         r"\bBREACH (?:OF )?(?:THE )?PEACE", r"\bTRESPASS\w*", r"\bLOITER\w*", r"\bVAGRAN\w*",
         r"\bPANHANDL\w*", r"\bORDINANCE", r"\bNOISE\b", r"\bMINOR IN (?:POSSESSION|CONSUMPTION)",
         r"\bMIP\b", r"\b(?:ALCOHOL\w*|LIQUOR|BEER)\b", r"\bOPEN CONTAINER", r"\bGAMBL\w*",
         r"\bBOOKMAK\w*", r"\bLOTTERY\b", r"\bGAMING\b", r"\bRIOT\w*", r"\bUNLAWFUL ASSEMBLY",
         r"\bHARASSMENT\b", r"\bCURFEW\b", r"\bURINAT\w*", r"\bLITTER\w*", r"\bILLEGAL DUMPING\b", r"\bANIMALS?\b",
         r"\bAFFRAY\b", r"\bNUISANCE\b", r"\bTRUANCY\b", r"\bRUNAWAY\b", r"\bTOBACCO\b", r"\bFIREWORKS\b"),
    rule("known-other", "other",
         r"\bENDANGER\w*", r"\bABANDON\w* (?:AN? )?(?:CHILD|MINOR)", r"\bNON ?SUPPORT\b",
         r"\bRACKETEER\w*|\bRICO\b", r"\bORGANIZED CRIM\w*", r"\bTERRORISM\b", r"\bTAX EVASION",
         r"\bHABITUAL FELON", r"\bDELINQUENCY OF (?:AN? )?MINOR"),
    # Weak: only when nothing stronger (and no offense code) says what the hold is for.
    rule("warrant-or-hold", "court_supervision",
         r"\bWARRANTS?\b", r"\bCAPIAS\b", r"\bHOLDS?\b", r"\bDETAINERS?\b", r"\bFUGITIVE\b",
         r"\bEXTRADIT\w*", r"\bORDER FOR ARREST\b", r"\bOUT OF (?:COUNTY|STATE|TOWN)\b", r"\bOTHER AGENCY\b", r"\bWRIT\b",
         r"\bPAROLE\b", r"\bPROBATION\b", r"\bTDCJ\b", r"\bUS MARSHALS?\b|\bUSMS\b",
         weak=True),
    rule("drug-unspecified", "drug_possession", _DRUG, weak=True),
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
