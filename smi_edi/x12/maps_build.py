"""Build the project's pyx12 map directory (``smi_edi/maps/``).

    python -m smi_edi.x12.maps_build            # regenerate smi_edi/maps/
    python -m smi_edi.x12.maps_build --check    # exit 1 if the committed maps are stale

pyx12 4.0.0 ships maps for the HIPAA guides only; its ``dataele.xml`` lacks most supply
chain elements (859, 587, 668, 330, 396, 382, 87/88, 79/80/187, ...), and a map directory
given to pyx12 *replaces* its packaged one. So this script writes a complete directory:

* ``dataele.xml``: pyx12's data elements plus (overriding) the ones our sets use, with
  type and length from the X12 dictionary; where 004010 and 005010 differ, the wider
  length of the two (pyx12 reads one dictionary per directory);
* ``codes.xml``: pyx12's external code sets plus ours, one ``x12_<element>`` set per
  closed code list we enforce. Elements refer to them as *external* codes, never as
  inline ``<valid_codes>``: pyx12 uses an inline code list on a mandatory first element
  to recognise the segment itself, so an unknown ``ACK01`` would turn into "segment not
  found" instead of "invalid code value";
* ``x12.control.00401.xml``/``x12.control.00501.xml``: the envelope (ISA, GS, GE, IEA,
  TA1) with the full X12 code lists rather than the HIPAA subsets;
* the transaction set maps: 810, 820, 846, 850, 852, 855 and 856 (004010 and 005010
  shapes, from the X12 standard's tables), 997 (pyx12's 997 body, widened to 005010 and to non-HIPAA groups)
  and 999 (pyx12's 005010X231A1 body);
* ``maps.xml``: the index pyx12 searches by (ISA12, GS08, GS01).

Open code lists stay open: ZA01 activity codes, units of measure, date qualifiers and
most qualifiers are only checked for type and length (DESIGN: keep unknown activity
codes). A handful of rarely used segments are "loose": any 20 optional elements, so a
partner who sends them is never rejected for them.

Framework-free: lxml and pyx12's packaged files only.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from lxml import etree

from .reader import is_digits

MAPS_DIR = Path(__file__).resolve().parent.parent / "maps"
PYX12_MAP_DIR = files("pyx12").joinpath("map")

# --------------------------------------------------------------------------------------
# Data elements: number -> (type, min, max, name). Overrides/extends pyx12's dataele.xml.
# --------------------------------------------------------------------------------------

ELEMENTS: dict[str, tuple[str, int, int, str]] = {
    # envelope
    "I01": ("ID", 2, 2, "Authorization Information Qualifier"),
    "I02": ("AN", 10, 10, "Authorization Information"),
    "I03": ("ID", 2, 2, "Security Information Qualifier"),
    "I04": ("AN", 10, 10, "Security Information"),
    "I05": ("ID", 2, 2, "Interchange ID Qualifier"),
    "I06": ("AN", 15, 15, "Interchange Sender ID"),
    "I07": ("AN", 15, 15, "Interchange Receiver ID"),
    "I08": ("DT", 6, 6, "Interchange Date"),
    "I09": ("TM", 4, 4, "Interchange Time"),
    "I10": ("ID", 1, 1, "Interchange Control Standards Identifier"),
    "I11": ("ID", 5, 5, "Interchange Control Version Number"),
    "I12": ("N0", 9, 9, "Interchange Control Number"),
    "I13": ("ID", 1, 1, "Acknowledgment Requested"),
    "I14": ("ID", 1, 1, "Interchange Usage Indicator"),
    "I15": ("AN", 1, 1, "Component Element Separator"),
    "I16": ("N0", 1, 5, "Number of Included Functional Groups"),
    "I17": ("ID", 1, 1, "Interchange Acknowledgment Code"),
    "I18": ("ID", 3, 3, "Interchange Note Code"),
    "I65": ("AN", 1, 1, "Repetition Separator"),
    "28": ("N0", 1, 9, "Group Control Number"),
    "96": ("N0", 1, 10, "Number of Included Segments"),
    "97": ("N0", 1, 6, "Number of Transaction Sets Included"),
    "124": ("AN", 2, 15, "Application Receiver's Code"),
    "142": ("AN", 2, 15, "Application Sender's Code"),
    "143": ("ID", 3, 3, "Transaction Set Identifier Code"),
    "329": ("AN", 4, 9, "Transaction Set Control Number"),
    "455": ("ID", 1, 2, "Responsible Agency Code"),
    "479": ("ID", 2, 2, "Functional Identifier Code"),
    "480": ("AN", 1, 12, "Version / Release / Industry Identifier Code"),
    "1705": ("AN", 1, 35, "Implementation Convention Reference"),
    # common
    "19": ("AN", 2, 30, "City Name"),
    "22": ("AN", 1, 30, "Commodity Code"),
    "23": ("ID", 1, 1, "Commodity Code Qualifier"),
    "24": ("ID", 4, 4, "Equipment Type"),
    "26": ("ID", 2, 3, "Country Code"),
    "40": ("ID", 2, 2, "Equipment Description Code"),
    "54": ("ID", 1, 2, "Risk of Loss Code"),
    "61": ("AN", 1, 30, "Free-Form Message"),
    "65": ("R", 1, 8, "Height"),
    "66": ("ID", 1, 2, "Identification Code Qualifier"),
    "67": ("AN", 2, 80, "Identification Code"),
    "79": ("AN", 1, 50, "Lading Description"),
    "80": ("N0", 1, 7, "Lading Quantity"),
    "81": ("R", 1, 10, "Weight"),
    "82": ("R", 1, 8, "Length"),
    "87": ("AN", 1, 48, "Marks and Numbers"),
    "88": ("ID", 1, 2, "Marks and Numbers Qualifier"),
    "91": ("ID", 1, 2, "Transportation Method/Type Code"),
    "92": ("ID", 2, 2, "Purchase Order Type Code"),
    "93": ("AN", 1, 60, "Name"),
    "98": ("ID", 2, 3, "Entity Identifier Code"),
    "100": ("ID", 3, 3, "Currency Code"),
    "102": ("ID", 1, 1, "Ownership Code"),
    "103": ("AN", 3, 5, "Packaging Code"),
    "107": ("ID", 1, 2, "Payment Method Code"),
    "116": ("ID", 3, 15, "Postal Code"),
    "118": ("R", 1, 9, "Rate"),
    "127": ("AN", 1, 50, "Reference Identification"),  # 1/30 in 004010, 1/50 in 005010
    "128": ("ID", 2, 3, "Reference Identification Qualifier"),
    "133": ("ID", 1, 2, "Routing Sequence Code"),
    "146": ("ID", 2, 2, "Shipment Method of Payment"),
    "152": ("ID", 2, 3, "Special Handling Code"),
    "156": ("ID", 2, 2, "State or Province Code"),
    "166": ("AN", 1, 55, "Address Information"),
    "183": ("R", 1, 8, "Volume"),
    "187": ("ID", 1, 2, "Weight Qualifier"),
    "188": ("ID", 1, 1, "Weight Unit Code"),
    "189": ("R", 1, 8, "Width"),
    "206": ("AN", 1, 4, "Equipment Initial"),
    "207": ("AN", 1, 15, "Equipment Number"),  # 1/10 in 004010
    "208": ("ID", 1, 3, "Hazardous Material Code Qualifier"),
    "209": ("AN", 2, 10, "Hazardous Material Class Code"),
    "212": ("R", 1, 17, "Unit Price"),
    "225": ("AN", 2, 15, "Seal Number"),
    "234": ("AN", 1, 48, "Product/Service ID"),
    "235": ("ID", 2, 2, "Product/Service ID Qualifier"),
    "236": ("ID", 3, 3, "Price Identifier Code"),
    "248": ("ID", 1, 1, "Allowance or Charge Indicator"),
    "280": ("R", 4, 10, "Exchange Rate"),
    "284": ("ID", 1, 2, "Service Level Code"),
    "289": ("N0", 1, 2, "Multiple Price Quantity"),
    "305": ("ID", 1, 2, "Transaction Handling Code"),
    "309": ("ID", 1, 2, "Location Qualifier"),
    "310": ("AN", 1, 30, "Location Identifier"),
    "324": ("AN", 1, 22, "Purchase Order Number"),
    "326": ("AN", 1, 45, "Request Reference Number"),
    "327": ("AN", 1, 8, "Change Order Sequence Number"),
    "328": ("AN", 1, 30, "Release Number"),
    "330": ("R", 1, 15, "Quantity Ordered"),
    "331": ("ID", 2, 2, "Allowance or Charge Method of Handling Code"),
    "332": ("R", 1, 6, "Percent"),
    "333": ("ID", 1, 2, "Terms Basis Date Code"),
    "334": ("ID", 2, 2, "Transportation Terms Qualifier Code"),
    "335": ("ID", 3, 3, "Transportation Terms Code"),
    "336": ("ID", 2, 2, "Terms Type Code"),
    "337": ("TM", 4, 8, "Time"),
    "338": ("R", 1, 6, "Terms Discount Percent"),
    "342": ("R", 1, 5, "Percent of Invoice Payable"),
    "344": ("ID", 2, 2, "Unit of Time Period or Interval"),
    "345": ("ID", 2, 2, "Lead Time Code"),
    "347": ("R", 1, 10, "Hash Total"),
    "349": ("ID", 1, 1, "Item Description Type"),
    "350": ("AN", 1, 20, "Assigned Identification"),
    "351": ("N0", 1, 3, "Terms Discount Days Due"),
    "352": ("AN", 1, 80, "Description"),
    "353": ("ID", 2, 2, "Transaction Set Purpose Code"),
    "354": ("N0", 1, 6, "Number of Line Items"),
    "355": ("ID", 2, 2, "Unit or Basis for Measurement Code"),
    "356": ("N0", 1, 6, "Pack"),
    "357": ("R", 1, 8, "Size"),
    "362": ("N2", 1, 10, "Terms Discount Amount"),
    "364": ("AN", 1, 256, "Communication Number"),  # 1/80 in 004010
    "365": ("ID", 2, 2, "Communication Number Qualifier"),
    "366": ("ID", 2, 2, "Contact Function Code"),
    "367": ("AN", 1, 30, "Contract Number"),
    "368": ("ID", 2, 2, "Shipment/Order Status Code"),
    "369": ("AN", 1, 45, "Free-form Description"),
    "370": ("DT", 8, 8, "Terms Discount Due Date"),
    "371": ("ID", 2, 2, "Change Reason Code"),
    "373": ("DT", 8, 8, "Date"),
    "374": ("ID", 3, 3, "Date/Time Qualifier"),
    "378": ("ID", 1, 1, "Allowance/Charge Percent Qualifier"),
    "380": ("R", 1, 15, "Quantity"),
    "382": ("R", 1, 10, "Number of Units Shipped"),
    "384": ("R", 1, 9, "Gross Weight per Pack"),
    "385": ("R", 1, 9, "Gross Volume per Pack"),
    "386": ("N0", 1, 3, "Terms Net Days"),
    "387": ("AN", 1, 35, "Routing"),
    "388": ("DT", 8, 8, "Terms Deferred Due Date"),
    "389": ("N2", 1, 10, "Deferred Amount Due"),
    "396": ("AN", 2, 30, "Shipment Identification"),
    "407": ("ID", 1, 2, "Temperature Control"),
    "443": ("AN", 1, 20, "Contact Inquiry Reference"),
    "446": ("DT", 8, 8, "Terms Net Due Date"),
    "478": ("ID", 1, 1, "Credit/Debit Flag Code"),
    "499": ("AN", 1, 10, "Condition Value"),
    "522": ("ID", 1, 3, "Amount Qualifier Code"),
    "559": ("ID", 2, 2, "Agency Qualifier Code"),
    "587": ("ID", 2, 2, "Acknowledgment Type"),
    "610": ("N2", 1, 15, "Amount"),
    "622": ("N0", 1, 5, "Number of Loads"),
    "623": ("ID", 2, 2, "Time Code"),
    "628": ("AN", 1, 12, "Hierarchical ID Number"),
    "639": ("ID", 2, 2, "Basis of Unit Price Code"),
    "640": ("ID", 2, 2, "Transaction Type Code"),
    "641": ("ID", 3, 3, "Status Reason Code"),
    "646": ("R", 1, 9, "Quantity Shipped to Date"),
    "648": ("ID", 3, 3, "Price Multiplier Qualifier"),
    "649": ("R", 1, 10, "Multiplier"),
    "662": ("ID", 1, 1, "Relationship Code"),
    "668": ("ID", 2, 2, "Line Item Status Code"),
    "669": ("ID", 3, 3, "Currency Market/Exchange Code"),
    "673": ("ID", 2, 2, "Quantity Qualifier"),
    "687": ("ID", 2, 2, "Class of Trade Code"),
    "706": ("ID", 2, 2, "Entity Relationship Code"),
    "728": ("ID", 1, 2, "Returnable Container Load Make-Up Code"),
    "731": ("ID", 1, 1, "Transit Direction Code"),
    "732": ("ID", 2, 2, "Transit Time Direction Qualifier"),
    "733": ("R", 1, 4, "Transit Time"),
    "734": ("AN", 1, 12, "Hierarchical Parent ID Number"),
    "735": ("ID", 1, 2, "Hierarchical Level Code"),
    "736": ("ID", 1, 1, "Hierarchical Child Code"),
    "737": ("ID", 2, 2, "Measurement Reference ID Code"),
    "738": ("ID", 1, 3, "Measurement Qualifier"),
    "739": ("R", 1, 20, "Measurement Value"),
    "740": ("R", 1, 20, "Range Minimum"),
    "741": ("R", 1, 20, "Range Maximum"),
    "750": ("ID", 2, 3, "Product/Process Characteristic Code"),
    "751": ("AN", 1, 12, "Product Description Code"),
    "752": ("ID", 2, 3, "Surface/Layer/Position Code"),
    "753": ("ID", 2, 2, "Packaging Characteristic Code"),
    "754": ("AN", 1, 7, "Packaging Description Code"),
    "755": ("ID", 2, 2, "Report Type Code"),
    "756": ("ID", 1, 2, "Report Transmission Code"),
    "757": ("N0", 1, 2, "Report Copies Needed"),
    "765": ("N0", 1, 2, "Day of Month"),
    "770": ("AN", 1, 20, "Option Number"),
    "786": ("ID", 2, 2, "Security Level Code"),
    "810": ("N0", 1, 6, "Inner Pack"),
    "819": ("ID", 2, 3, "Language Code"),
    "822": ("AN", 1, 15, "Source Subqualifier"),
    "859": ("ID", 2, 2, "Activity Code"),
    "933": ("AN", 1, 264, "Free-Form Message Text"),
    "934": ("ID", 2, 2, "Printer Carriage Control Code"),
    "935": ("ID", 2, 2, "Measurement Significance Code"),
    "936": ("ID", 2, 2, "Measurement Attribute Code"),
    "954": ("R", 1, 10, "Percent"),
    "1000": ("ID", 2, 2, "Service Characteristics Qualifier"),
    "1005": ("ID", 4, 4, "Hierarchical Structure Code"),
    "1019": ("ID", 3, 3, "Invoice Type Code"),
    "1018": ("R", 1, 15, "Exponent"),
    "1073": ("ID", 1, 1, "Yes/No Condition or Response Code"),
    "1166": ("ID", 2, 2, "Contract Type Code"),
    "1232": ("ID", 2, 2, "Purchase Category"),
    "1250": ("ID", 2, 3, "Date Time Period Format Qualifier"),
    "1251": ("AN", 1, 35, "Date Time Period"),
    "1270": ("ID", 1, 3, "Code List Qualifier Code"),
    "1271": ("AN", 1, 30, "Industry Code"),
    "1300": ("ID", 4, 4, "Service, Promotion, Allowance, or Charge Code"),
    "1301": ("AN", 1, 10, "Agency Service, Promotion, Allowance, or Charge Code"),
    "1373": ("ID", 2, 2, "Measurement Method or Device"),
    "1470": ("N0", 1, 9, "Number"),
    "1715": ("ID", 1, 3, "Country Subdivision Code"),
    "400": ("ID", 1, 2, "Unit Load Option Code"),
    # 810 / 820 / 846
    "76": ("AN", 1, 22, "Invoice Number"),
    "306": ("ID", 1, 2, "Action Code"),
    "363": ("ID", 3, 3, "Note Reference Code"),
    "426": ("ID", 2, 2, "Adjustment Reason Code"),
    "481": ("ID", 1, 2, "Trace Type Code"),
    "482": ("ID", 2, 2, "Payment Action Code"),
    "506": ("ID", 2, 2, "(DFI) ID Number Qualifier"),
    "507": ("AN", 3, 12, "(DFI) Identification Number"),
    "508": ("AN", 1, 35, "Account Number"),
    "509": ("AN", 10, 10, "Originating Company Identifier"),
    "510": ("AN", 9, 9, "Originating Company Supplemental Code"),
    "554": ("N0", 1, 6, "Assigned Number"),
    "569": ("ID", 1, 3, "Account Number Qualifier"),
    "591": ("ID", 3, 3, "Payment Method Code"),
    "812": ("ID", 1, 10, "Payment Format Code"),
    "1048": ("ID", 1, 3, "Business Function Code"),
    # 997 / 999
    "2": ("N0", 1, 6, "Number of Accepted Transaction Sets"),
    "123": ("N0", 1, 6, "Number of Received Transaction Sets"),
    "447": ("AN", 1, 4, "Loop Identifier Code"),
    "715": ("ID", 1, 1, "Functional Group Acknowledge Code"),
    "716": ("ID", 1, 3, "Functional Group Syntax Error Code"),
    "717": ("ID", 1, 1, "Transaction Set Acknowledgment Code"),
    "718": ("ID", 1, 3, "Transaction Set Syntax Error Code"),
    "719": ("N0", 1, 10, "Segment Position in Transaction Set"),  # 1/6 in 004010
    "720": ("ID", 1, 3, "Segment Syntax Error Code"),
    "721": ("ID", 2, 3, "Segment ID Code"),
    "722": ("N0", 1, 2, "Element Position in Segment"),
    "723": ("ID", 1, 3, "Data Element Syntax Error Code"),
    "724": ("AN", 1, 99, "Copy of Bad Data Element"),
    # N0 in the dictionary, but the 999 guide's own example names a composite in CTX06
    # (CTX*SITUATIONAL TRIGGER*CLM*43**5:3*C023:1325): a reference number or a C-number
    "725": ("AN", 1, 4, "Data Element Reference Number"),
    "1528": ("N0", 1, 2, "Component Data Element Position in Composite"),
    "1686": ("N0", 1, 4, "Repeating Data Element Position"),
    # any value (elements of the loose segments)
    "ANY": ("AN", 1, 264, "Element (not validated)"),
}

# Closed code lists we enforce (as external code sets "x12_<element>").
CODES: dict[str, list[str]] = {
    "I01": ["00", "01", "02", "03", "04", "05", "06"],
    "I03": ["00", "01"],
    "I05": [
        *[f"{n:02d}" for n in (1, 2, 3, 4, 7, 8, 9, *range(10, 39))],
        *["AM", "NR", "SA", "SN", "ZZ"],
    ],
    "I13": ["0", "1"],
    "I14": ["I", "P", "T"],
    "455": ["T", "X"],
    # BAK02: the 004010 list and the codes 005010 added
    "587": [
        *["AC", "AD", "AE", "AH", "AK", "AP", "AT", "DQ", "NA", "RD", "RF", "RJ"],
        *["RN", "RO", "RR", "RV", "UQ", "ZZ"],
    ],
    # ACK01 / SN108
    "668": [
        *["AA", "AC", "AR", "BP", "DR", "IA", "IB", "IC", "ID", "IE", "IF", "IH"],
        *["IP", "IQ", "IR", "IS", "IW", "R1", "R2", "R3", "R4", "R5", "R6", "R7"],
        *["R8", "SP"],
    ],
    "736": ["0", "1"],
    "248": ["A", "C", "N"],
}

LOOSE = "LOOSE"

# --------------------------------------------------------------------------------------
# Segments: id -> (name, element spec, syntax notes). Spec: "num req, ..." where req is
# M (mandatory), O (optional) or X (conditional); composites are C001 / C040 / C030.
# Element lists are the longer of 004010 and 005010.
# --------------------------------------------------------------------------------------

_PAIRS_235_234 = ", ".join("235 X, 234 X" for _ in range(10))

SEGMENTS: dict[str, tuple[str, str, str]] = {
    "ST": ("Transaction Set Header", "143 M, 329 M, 1705 O", ""),
    "SE": ("Transaction Set Trailer", "96 M, 329 M", ""),
    # 852
    "XQ": ("Reporting Date/Action", "305 M, 373 M, 373 O, 127 O, 353 O", ""),
    "XPO": ("Preassigned Purchase Order Numbers", "324 M, 324 O, 66 X, 67 X", "P0304"),
    "ZA": (
        "Product Activity Reporting",
        "859 M, 380 X, 355 X, 374 X, 373 X, 128 X, 127 X, 1073 O",
        # The standard pairs ZA02/ZA03 (P0203); retailers send "ZA*QS**EA" with the
        # quantities in SDQ, which DESIGN calls normal, so only the other pairs are kept.
        "P0405 P0607",
    ),
    "SDQ": (
        "Destination Quantity",
        "355 M, 66 O, 67 M, 380 M, " + ", ".join("67 X, 380 X" for _ in range(9)) + ", 310 O",
        " ".join(f"P{i:02d}{i + 1:02d}" for i in range(5, 23, 2)),
    ),
    # 855
    "BAK": (
        "Beginning Segment for Purchase Order Acknowledgment",
        "353 M, 587 M, 324 M, 373 M, 328 O, 326 O, 367 O, 127 O, 373 O, 640 O",
        "",
    ),
    "ACK": (
        "Line Item Acknowledgment",
        "668 M, 380 X, 355 X, 374 X, 373 X, 326 O, " + _PAIRS_235_234 + ", 559 X, 822 X, 1271 X",
        "P0203 C0405 " + " ".join(f"P{i:02d}{i + 1:02d}" for i in range(7, 27, 2)) + " P2728",
    ),
    "PO1": (
        "Baseline Item Data",
        "350 O, 330 X, 355 X, 212 X, 639 O, " + _PAIRS_235_234,
        "C0302 C0504 " + " ".join(f"P{i:02d}{i + 1:02d}" for i in range(6, 26, 2)),
    ),
    "PO3": (
        "Additional Item Detail",
        "371 M, 373 O, 236 X, 212 X, 639 O, 380 M, 355 M, 352 O",
        "C0403",
    ),
    "SCH": (
        "Line Item Schedule",
        "380 M, 355 M, 98 X, 93 X, 374 M, 373 M, 337 O, 374 X, 373 X, 337 O, 326 O, 350 O",
        "",
    ),
    "LDT": ("Lead Time", "345 M, 380 M, 344 M, 373 O", ""),
    "SI": (
        "Service Characteristic Identification",
        "559 M, 1000 M, 234 M, " + ", ".join("1000 X, 234 X" for _ in range(8)),
        " ".join(f"P{i:02d}{i + 1:02d}" for i in range(4, 20, 2)),
    ),
    # 850
    "BEG": (
        "Beginning Segment for Purchase Order",
        "353 M, 92 M, 324 M, 328 O, 373 M, 367 O, 587 O, 1019 O, 1166 O, 1232 O, 786 O, 640 O",
        "",
    ),
    # 856
    "BSN": (
        "Beginning Segment for Ship Notice",
        "353 M, 396 M, 373 M, 337 M, 1005 O, 640 X, 641 O",
        "C0706",
    ),
    "HL": ("Hierarchical Level", "628 M, 734 O, 735 M, 736 O", ""),
    "SN1": (
        "Item Detail (Shipment)",
        "350 O, 382 M, 355 M, 646 O, 330 X, 355 X, 728 O, 668 O",
        "P0506",
    ),
    "SLN": (
        "Subline Item Detail",
        "350 M, 350 O, 662 M, 380 X, C001 X, 212 X, 639 O, 662 O, " + _PAIRS_235_234,
        "P0405 C0706 C0806 " + " ".join(f"P{i:02d}{i + 1:02d}" for i in range(9, 29, 2)),
    ),
    "PRF": (
        "Purchase Order Reference",
        "324 M, 328 O, 327 O, 373 O, 350 O, 367 O, 92 O",
        "",
    ),
    "TD1": (
        "Carrier Details (Quantity and Weight)",
        "103 O, 80 X, 23 O, 22 X, 79 O, 187 X, 81 X, 355 X, 183 X, 355 X",
        "C0102 C0304 C0607 P0708 P0910",
    ),
    "TD5": (
        "Carrier Details (Routing Sequence/Transit Time)",
        "133 O, 66 X, 67 X, 91 X, 387 X, 368 X, 309 X, 310 X, 731 O, 732 X, 733 X, "
        "284 X, 284 O, 284 O, 26 O",
        "R0204050612 C0203 C0708 C1011 C1312 C1413",
    ),
    "TD3": (
        "Carrier Details (Equipment)",
        "40 X, 206 O, 207 X, 187 O, 81 X, 355 O, 102 O, 407 O, 225 O, 24 X",
        "E0110 C0203 C0405 P0506",
    ),
    "TD4": (
        "Carrier Details (Special Handling, or Hazardous Materials, or Both)",
        "152 X, 208 X, 209 X, 352 X, 1073 O",
        "R010204 C0203",
    ),
    "MAN": (
        "Marks and Numbers",
        "88 M, 87 M, 87 O, 88 X, 87 X, 87 O",
        "P0405 C0605",
    ),
    "CLD": ("Load Detail", "622 M, 382 M, 103 O, 357 X, 355 X", "P0405"),
    "DTP": ("Date or Time or Period", "374 M, 1250 M, 1251 M", ""),
    # 810
    "BIG": (
        "Beginning Segment for Invoice",
        "373 M, 76 M, 373 O, 324 O, 328 O, 327 O, 640 O, 353 O, 306 O, 76 O",
        "",
    ),
    "IT1": (
        "Baseline Item Data (Invoice)",
        "350 O, 358 X, 355 X, 212 X, 639 O, " + _PAIRS_235_234,
        "P020304 " + " ".join(f"P{i:02d}{i + 1:02d}" for i in range(6, 26, 2)),
    ),
    "TDS": ("Total Monetary Value Summary", "610 M, 610 O, 610 O, 610 O", ""),
    "NTE": ("Note/Special Instruction", "363 O, 352 M", ""),
    # 820
    "BPR": (
        "Beginning Segment for Payment Order/Remittance Advice",
        "305 M, 782 M, 478 M, 591 M, 812 O, 506 X, 507 X, 569 O, 508 X, 509 O, 510 O, "
        "506 X, 507 X, 569 O, 508 X, 373 O, 1048 O, 506 X, 507 X, 569 X, 508 X",
        "P0607 C0809 P1213 C1415 P1819 C2021",
    ),
    "TRN": ("Trace", "481 M, 127 M, 509 O, 127 O", ""),
    "ENT": (
        "Entity",
        "554 O, 98 X, 66 X, 67 X, 98 X, 66 X, 67 X, 128 X, 127 X",
        "P020304 P050607 P0809",
    ),
    "RMR": (
        "Remittance Advice Accounts Receivable Open Item Reference",
        "128 X, 127 X, 482 O, 782 O, 782 O, 782 O, 426 X, 782 X",
        "P0102 P0708",
    ),
    "ADX": ("Adjustment", "782 M, 426 M, 128 X, 127 X", "P0304"),
    # 846
    "BIA": (
        "Beginning Segment for Inventory Inquiry/Advice",
        "353 M, 755 M, 127 M, 373 M, 337 O, 306 O",
        "",
    ),
    # shared
    "N1": ("Name", "98 M, 93 X, 66 X, 67 X, 706 O, 98 O", "R0203 P0304"),
    "N2": ("Additional Name Information", "93 M, 93 O", ""),
    "N3": ("Address Information", "166 M, 166 O", ""),
    "N4": ("Geographic Location", "19 O, 156 X, 116 O, 26 X, 309 X, 310 O, 1715 X", "E0207 C0605"),
    "REF": ("Reference Identification", "128 M, 127 X, 352 X, C040 O", "R0203"),
    "PER": (
        "Administrative Communications Contact",
        "366 M, 93 O, 365 X, 364 X, 365 X, 364 X, 365 X, 364 X, 443 O",
        "P0304 P0506 P0708",
    ),
    "DTM": (
        "Date/Time Reference",
        "374 M, 373 X, 337 X, 623 O, 1250 X, 1251 X",
        "R020305 C0403 P0506",
    ),
    "N9": (
        "Reference Identification",
        "128 M, 127 X, 369 X, 373 O, 337 X, 623 O, C040 O",
        "R0203 C0605",
    ),
    "MSG": ("Message Text", "933 M, 934 X, 1470 O", "C0302"),
    "CUR": (
        "Currency",
        "98 M, 100 M, 280 O, 98 O, 100 O, 669 O, "
        + ", ".join("374 X, 373 X, 337 X" for _ in range(5)),
        "C0807 C0907 L101112 C1110 C1210 L131415 C1413 C1513 L161718 C1716 C1816 "
        "L192021 C2019 C2119",
    ),
    "CTT": (
        "Transaction Totals",
        "354 M, 347 O, 81 X, 355 X, 183 X, 355 X, 352 O",
        "P0304 P0506",
    ),
    "AMT": ("Monetary Amount", "522 M, 782 M, 478 O", ""),
    "QTY": ("Quantity", "673 M, 380 X, C001 X, 61 X", "R0204 E0204 E0304"),
    "LIN": (
        "Item Identification",
        "350 O, 235 M, 234 M, " + ", ".join("235 X, 234 X" for _ in range(14)),
        " ".join(f"P{i:02d}{i + 1:02d}" for i in range(4, 32, 2)),
    ),
    "CTP": (
        "Pricing Information",
        "687 O, 236 X, 212 X, 380 X, C001 X, 648 X, 649 X, 782 O, 639 O, 499 O, 289 O",
        "P0405 C0607 C0902 C1002 C1103",
    ),
    "PO4": (
        "Item Physical Details",
        "356 O, 357 X, 355 X, 103 X, 187 X, 384 X, 355 X, 385 X, 355 X, 82 X, 189 X, "
        "65 X, 355 X, 810 O, 752 O, 350 X, 350 O, 1470 O",
        "P0203 C0506 P0607 P0809 C1013 C1113 C1213 L13101112 C1716 C1804",
    ),
    "PID": (
        "Product/Item Description",
        "349 M, 750 O, 559 X, 751 X, 352 X, 752 O, 822 O, 1073 O, 819 O",
        "C0403 R0405 C0703 C0804 C0905",
    ),
    "MEA": (
        "Measurements",
        "737 O, 738 O, 739 X, C001 X, 740 X, 741 X, 935 O, 936 X, 752 O, 1373 O",
        "R03050608 C0504 C0604 L07030506 E0803",
    ),
    "PKG": (
        "Marking, Packaging, Loading",
        "349 X, 753 O, 559 X, 754 X, 352 X, 400 O",
        "R0405 C0403 C0501",
    ),
    "FOB": (
        "F.O.B. Related Instructions",
        "146 M, 309 X, 352 O, 334 X, 335 X, 309 X, 352 O, 54 X, 352 X",
        "C0302 C0405 C0706 C0809",
    ),
    "SAC": (
        "Service, Promotion, Allowance, or Charge Information",
        "248 M, 1300 X, 559 X, 1301 X, 610 O, 378 X, 332 X, 118 X, 355 X, 380 X, 380 O, "
        "331 O, 127 O, 770 O, 352 X, 819 O",
        "R0203 P0304 P0607 P0910 C1110 C1413 C1615",
    ),
    "ITD": (
        "Terms of Sale/Deferred Terms of Sale",
        "336 O, 333 O, 338 O, 370 O, 351 O, 446 O, 386 O, 362 O, 388 O, 389 O, 342 O, "
        "352 O, 765 O, 107 O, 954 O",
        "L03040513 L08040513 L091011 C1009",
    ),
    # loose: rarely used; any 20 optional elements
    "TAX": ("Tax Reference", LOOSE, ""),
    "CSH": ("Sales Requirements", LOOSE, ""),
    "PAM": ("Period Amount", LOOSE, ""),
    "INC": ("Installment Information", LOOSE, ""),
    "IT8": ("Conditions of Sale", LOOSE, ""),
    "TXI": ("Tax Information", LOOSE, ""),
    "CTB": ("Restrictions/Conditions", LOOSE, ""),
    "NX2": ("Location ID Component", LOOSE, ""),
    "ADV": ("Advertising Demographic Information", LOOSE, ""),
    "MTX": ("Text", LOOSE, ""),
    "DIS": ("Discount Detail", LOOSE, ""),
    "PWK": ("Paperwork", LOOSE, ""),
    "PAL": ("Pallet Information", LOOSE, ""),
    "G95": ("Performance Requirements", LOOSE, ""),
    "TSD": ("Trailer Shipment Details", LOOSE, ""),
    "ETD": ("Excess Transportation Detail", LOOSE, ""),
    "GF": ("Furnished Goods and Services", LOOSE, ""),
    "YNQ": ("Yes/No Question", LOOSE, ""),
    "LM": ("Code Source Information", LOOSE, ""),
    "LQ": ("Industry Code", LOOSE, ""),
    "V1": ("Vessel Identification", LOOSE, ""),
    "R4": ("Port or Terminal", LOOSE, ""),
    "LH1": ("Hazardous Identification Information", LOOSE, ""),
    "LH2": ("Hazardous Classification Information", LOOSE, ""),
    "LH3": ("Hazardous Material Shipping Name", LOOSE, ""),
    "LFH": ("Freeform Hazardous Material Information", LOOSE, ""),
    "LEP": ("EPA Required Data", LOOSE, ""),
    "LH4": ("Canadian Dangerous Requirements", LOOSE, ""),
    "LHT": ("Transborder Hazardous Requirements", LOOSE, ""),
    "LHR": ("Hazardous Material Identifying Reference Numbers", LOOSE, ""),
    "LHE": ("Empty Equipment Hazardous Material Information", LOOSE, ""),
    "TC2": ("Commodity", LOOSE, ""),
    "PCT": ("Percent Amounts", LOOSE, ""),
    "CN1": ("Contract Information", LOOSE, ""),
    "IT3": ("Additional Item Data", LOOSE, ""),
    "IN2": ("Individual Name Structure Components", LOOSE, ""),
    "CAD": ("Carrier Detail", LOOSE, ""),
    "ISS": ("Invoice Shipment Summary", LOOSE, ""),
    "CRC": ("Conditions Indicator", LOOSE, ""),
    "L7": ("Tariff Reference", LOOSE, ""),
    "SR": ("Requested Service Schedule", LOOSE, ""),
    "DMG": ("Demographic Information", LOOSE, ""),
    "NM1": ("Individual or Organizational Name", LOOSE, ""),
    "RDM": ("Remittance Delivery Method", LOOSE, ""),
    "UIT": ("Unit Detail", LOOSE, ""),
    "CS": ("Contract Summary", LOOSE, ""),
    "DD": ("Demand Detail", LOOSE, ""),
    "G53": ("Maintenance Type", LOOSE, ""),
}

COMPOSITES: dict[str, tuple[str, str]] = {
    "C001": (
        "Composite Unit of Measure",
        "355 M, " + ", ".join(["1018 O, 649 O"] + ["355 X, 1018 O, 649 O"] * 4),
    ),
    "C040": ("Reference Identifier", "128 M, 127 M, 128 X, 127 X, 128 X, 127 X"),
}

# --------------------------------------------------------------------------------------
# Transaction set structures (X12 standard tables). seg(id, req, max) / loop(id, req,
# max, children); req M -> usage R, O -> usage S.
# --------------------------------------------------------------------------------------


@dataclass
class Seg:
    id: str
    req: str
    max_use: int | str


@dataclass
class Loop:
    id: str
    req: str
    repeat: int | str
    children: list = field(default_factory=list)
    name: str = ""


def seg(id: str, req: str = "O", max_use: int | str = 1) -> Seg:
    return Seg(id, req, max_use)


def loop(id: str, req: str, repeat: int | str, *children, name: str = "") -> Loop:
    return Loop(id, req, repeat, list(children), name)


N = ">1"


def _n1_loop(repeat: int | str, *extra: Seg, n2: int = 2, n4: int | str = 1) -> Loop:
    return loop(
        "N1",
        "O",
        repeat,
        seg("N1", "M"),
        seg("N2", "O", n2),
        seg("N3", "O", 2),
        seg("N4", "O", n4),
        *extra,
        name="Name",
    )


def _structure_852(five: bool) -> list:
    return [
        seg("ST", "M"),
        seg("XQ", "M"),
        seg("XPO", "O", N),
        seg("N9", "O", N),
        seg("PER", "O", 3),
        loop(
            "N1",
            "O",
            200,
            seg("N1", "M"),
            seg("N2", "O", 1),
            seg("N3", "O", 2),
            seg("N4", "O", 1),
            seg("FOB", "O", 1),
            seg("TD5", "O", 1),
            seg("DTM", "O", N),
            seg("N9", "O", N),
            seg("PER", "O", 3),
            name="Name",
        ),
        loop(
            "LIN",
            "O",
            999999,
            seg("LIN", "M"),
            seg("CTP", "O", 25),
            *([seg("SAC", "O", N)] if five else []),
            seg("PO4", "O", 1),
            seg("N9", "O", N),
            seg("AMT", "O", 10),
            seg("PAL", "O", 1),
            seg("QTY", "O", N),
            loop(
                "ZA",
                "M",
                N,
                seg("ZA", "M"),
                seg("QTY", "O", N),
                seg("CTP", "O", 25),
                seg("SDQ", "O", N),
                loop("G95", "O", 1, seg("G95", "M"), seg("DTM", "O", 2), name="Performance"),
                name="Product Activity Reporting",
            ),
            name="Item Identification",
        ),
        seg("CTT", "O"),
        seg("SE", "M"),
    ]


def _sac_loop(repeat: int | str, after: Seg | None = None) -> Loop:
    """SAC and the segment after it: CUR (850, 852, 855) unless ``after`` says (810: TXI)."""
    return loop(
        "SAC",
        "O",
        repeat,
        seg("SAC", "M"),
        after or seg("CUR", "O", 1),
        name="Allowance or Charge",
    )


def _n9_loop(repeat: int | str) -> Loop:
    return loop(
        "N9",
        "O",
        repeat,
        seg("N9", "M"),
        seg("DTM", "O", N),
        seg("MSG", "O", 1000),
        name="Reference Identification",
    )


def _structure_855(five: bool) -> list:
    carrier = [seg("TD1", "O", 2), seg("TD5", "O", 12), seg("TD3", "O", 12), seg("TD4", "O", 5)]
    return [
        seg("ST", "M"),
        seg("BAK", "M"),
        seg("CUR", "O"),
        seg("REF", "O", N),
        seg("PER", "O", 3),
        seg("TAX", "O", N),
        seg("FOB", "O", N),
        seg("CTP", "O", N),
        seg("PAM", "O", 10),
        seg("CSH", "O", 1),
        _sac_loop(25),
        seg("ITD", "O", 5),
        seg("DIS", "O", 20),
        seg("INC", "O", 1),
        seg("DTM", "O", 10),
        seg("LDT", "O", 12),
        seg("LIN", "O", 5),
        seg("SI", "O", N),
        seg("PID", "O", 200),
        seg("MEA", "O", 40),
        seg("PWK", "O", 25),
        seg("PKG", "O", 25),
        *carrier,
        seg("MAN", "O", 10),
        seg("TXI", "O", N),
        seg("CTB", "O", N),
        _n9_loop(1000),
        _n1_loop(
            200,
            seg("NX2", "O", N),
            seg("REF", "O", 12),
            seg("PER", "O", N),
            seg("SI", "O", N),
            seg("FOB", "O", 1),
            *carrier,
            seg("PKG", "O", 25),
            seg("MSG", "O", N),
        ),
        loop("ADV", "O", N, seg("ADV", "M"), seg("DTM", "O", N), seg("MTX", "O", N)),
        loop(
            "PO1",
            "O",
            100000,
            seg("PO1", "M"),
            seg("LIN", "O", N),
            seg("SI", "O", N),
            seg("CUR", "O", 1),
            seg("PO3", "O", 25),
            seg("CTP", "O", N),
            seg("PAM", "O", 10),
            seg("MEA", "O", 40),
            loop("PID", "O", 1000, seg("PID", "M"), seg("MEA", "O", 10), name="Description"),
            seg("PWK", "O", 25),
            seg("PO4", "O", N),
            seg("REF", "O", N),
            seg("PER", "O", 3),
            _sac_loop(25),
            seg("IT8", "O", 1),
            seg("CSH", "O", N),
            seg("ITD", "O", 2),
            seg("DIS", "O", 20),
            seg("INC", "O", 1),
            seg("TAX", "O", N),
            seg("FOB", "O", N),
            seg("SDQ", "O", 500),
            seg("DTM", "O", 10),
            seg("LDT", "O", 12),
            seg("TD1", "O", 1),
            seg("TD5", "O", 12),
            seg("TD3", "O", 12),
            seg("TD4", "O", 5),
            loop("ACK", "O", 104, seg("ACK", "M"), seg("DTM", "O", 1), name="Acknowledgment"),
            seg("MAN", "O", 10),
            seg("AMT", "O", 1),
            seg("CTB", "O", N),
            seg("TXI", "O", N),
            loop("QTY", "O", N, seg("QTY", "M"), seg("SI", "O", N), name="Quantity"),
            loop("PKG", "O", 200, seg("PKG", "M"), seg("MEA", "O", N), name="Packaging"),
            loop(
                "SCH",
                "O",
                200,
                seg("SCH", "M"),
                *carrier,
                seg("REF", "O", N),
                name="Line Item Schedule",
            ),
            _n9_loop(1000),
            _n1_loop(
                200,
                seg("NX2", "O", N),
                seg("REF", "O", 12),
                seg("PER", "O", 3),
                seg("SI", "O", N),
                seg("DTM", "O", 1),
                seg("FOB", "O", 1),
                seg("SCH", "O", 200),
                *carrier,
                seg("QTY", "O", N),
                seg("PKG", "O", 25),
            ),
            loop(
                "SLN",
                "O",
                1000,
                seg("SLN", "M"),
                seg("MSG", "O", N),
                seg("SI", "O", N),
                seg("PID", "O", 1000),
                seg("PO3", "O", 25),
                seg("CTP", "O", 25),
                seg("PAM", "O", 10),
                seg("ACK", "O", 104),
                _sac_loop(10),
                seg("DTM", "O", 10),
                seg("PO4", "O", 1),
                seg("TAX", "O", 3),
                seg("ADV", "O", N),
                loop("QTY", "O", N, seg("QTY", "M"), seg("SI", "O", N), name="Quantity"),
                _n9_loop(N),
                _n1_loop(
                    10,
                    seg("NX2", "O", N),
                    seg("REF", "O", 12),
                    seg("PER", "O", 3),
                    seg("SI", "O", N),
                ),
                name="Subline Item Detail",
            ),
            name="Baseline Item Data",
        ),
        loop("CTT", "O", 1, seg("CTT", "M"), seg("AMT", "O", 1), name="Transaction Totals"),
        seg("SE", "M"),
    ]


def _structure_856(five: bool) -> list:
    return [
        seg("ST", "M"),
        seg("BSN", "M"),
        seg("DTM", "O", 10),
        loop(
            "HL",
            "M",
            200000,
            seg("HL", "M"),
            seg("LIN", "O", 1),
            seg("SN1", "O", 1),
            seg("SLN", "O", 1000),
            seg("PRF", "O", 1),
            seg("PO4", "O", 1),
            seg("PID", "O", 200),
            seg("MEA", "O", 40),
            seg("PWK", "O", 25),
            seg("PKG", "O", 25),
            seg("TD1", "O", 20),
            seg("TD5", "O", 12),
            seg("TD3", "O", 12),
            seg("TD4", "O", 5),
            seg("TSD", "O", 1),
            seg("REF", "O", N),
            seg("PER", "O", 3),
            loop(
                "LH1",
                "O",
                100,
                seg("LH1", "M"),
                seg("LH2", "O", 4),
                seg("LH3", "O", 10),
                seg("LFH", "O", 20),
                seg("LEP", "O", N),
                seg("LH4", "O", 1),
                seg("LHT", "O", 3),
                seg("LHR", "O", 10),
                seg("PER", "O", 5),
                seg("LHE", "O", 1),
                name="Hazardous Material",
            ),
            loop(
                "CLD",
                "O",
                200,
                seg("CLD", "M"),
                seg("REF", "O", 200),
                seg("DTP", "O", 1),
                name="Load Detail",
            ),
            seg("MAN", "O", N),
            seg("DTM", "O", 10),
            seg("FOB", "O", 1),
            seg("PAL", "O", 1),
            _n1_loop(200, seg("REF", "O", 12), seg("PER", "O", 3), seg("FOB", "O", 1)),
            seg("SDQ", "O", 50),
            seg("ETD", "O", 1),
            seg("CUR", "O", 1),
            _sac_loop(N),
            seg("GF", "O", 1),
            seg("YNQ", "O", 10),
            loop("LM", "O", 10, seg("LM", "M"), seg("LQ", "O", 100), name="Code Source"),
            loop(
                "V1",
                "O",
                N,
                seg("V1", "M"),
                seg("R4", "O", N),
                seg("DTM", "O", N),
                name="Vessel Identification",
            ),
            name="Hierarchical Level",
        ),
        seg("CTT", "O"),
        seg("SE", "M"),
    ]


def _structure_850(five: bool) -> list:
    """The 850 of the X12 tables (004010 and 005010), less the rarely used SPI, FA1, LS/LE
    and EFI groups. 005010 moved free text from MSG to MTX and made the heading LDT a
    loop; MSG is kept in the 005010 map as well, since partners still send it there."""

    def carrier(td5: int | str = 12) -> list[Seg]:
        return [seg("TD1", "O", 2), seg("TD5", "O", td5), seg("TD3", "O", 12), seg("TD4", "O", 5)]

    text = [seg("MSG", "O", 1000), *([seg("MTX", "O", N)] if five else [])]

    def n9_loop(repeat: int | str, *, mea: bool = False) -> Loop:
        return loop(
            "N9",
            "O",
            repeat,
            seg("N9", "M"),
            seg("DTM", "O", N),
            *([seg("MEA", "O", 40)] if mea else []),
            *text,
            *([seg("PWK", "O", N)] if five else []),
            name="Reference Identification",
        )

    def n1_loop(repeat: int | str, *extra: Seg, n4: int | str = 1) -> Loop:
        return loop(
            "N1",
            "O",
            repeat,
            seg("N1", "M"),
            seg("N2", "O", 2),
            *([seg("IN2", "O", N)] if five else []),
            seg("N3", "O", 2),
            seg("N4", "O", n4),
            *extra,
            name="Name",
        )

    def sac_loop(*, ctp: bool) -> Loop:
        return loop(
            "SAC",
            "O",
            25,
            seg("SAC", "M"),
            seg("CUR", "O", 1),
            *([seg("CTP", "O", 1)] if ctp else []),
            name="Allowance or Charge",
        )

    def qty_loop() -> Loop:
        return loop("QTY", "O", N, seg("QTY", "M"), seg("SI", "O", N), name="Quantity")

    if five:
        heading_ldt = loop(
            "LDT",
            "O",
            N,
            seg("LDT", "M"),
            seg("QTY", "O", N),
            seg("MTX", "O", N),
            seg("REF", "O", N),
            name="Lead Time",
        )
    else:
        heading_ldt = seg("LDT", "O", 12)
    return [
        seg("ST", "M"),
        seg("BEG", "M"),
        seg("CUR", "O"),
        seg("REF", "O", N),
        seg("PER", "O", 3),
        seg("TAX", "O", N),
        seg("FOB", "O", N),
        seg("CTP", "O", N),
        seg("PAM", "O", 10),
        seg("CSH", "O", 5),
        seg("TC2", "O", N),
        sac_loop(ctp=False),
        seg("ITD", "O", N),
        seg("DIS", "O", 20),
        seg("INC", "O", 1),
        seg("DTM", "O", 10),
        *([] if five else [heading_ldt]),
        seg("LIN", "O", 5),
        seg("SI", "O", N),
        seg("PID", "O", 200),
        seg("MEA", "O", 40),
        seg("PWK", "O", 25),
        seg("PKG", "O", 200),
        *carrier(N if five else 12),
        seg("MAN", "O", 10),
        seg("PCT", "O", N),
        seg("CTB", "O", 5),
        seg("TXI", "O", N),
        *([heading_ldt] if five else []),
        loop(
            "AMT",
            "O",
            N,
            seg("AMT", "M"),
            seg("REF", "O", N),
            seg("DTM", "O", 1),
            seg("PCT", "O", N),
            name="Monetary Amount",
        ),
        n9_loop(1000),
        n1_loop(
            200,
            seg("NX2", "O", N),
            seg("REF", "O", 12),
            seg("PER", "O", N),
            seg("SI", "O", N),
            seg("FOB", "O", 1),
            *carrier(),
            seg("PKG", "O", 200),
            n4=N,
        ),
        loop("LM", "O", N, seg("LM", "M"), seg("LQ", "M", N), name="Code Source"),
        loop("ADV", "O", N, seg("ADV", "M"), seg("DTM", "O", N), seg("MTX", "O", N)),
        loop(
            "PO1",
            "M",
            100000,
            seg("PO1", "M"),
            seg("LIN", "O", N),
            seg("SI", "O", N),
            seg("CUR", "O", 1),
            seg("CN1", "O", 1),
            seg("PO3", "O", 25),
            loop("CTP", "O", N, seg("CTP", "M"), seg("CUR", "O", 1), name="Pricing"),
            seg("PAM", "O", 10),
            seg("MEA", "O", 40),
            loop("PID", "O", 1000, seg("PID", "M"), seg("MEA", "O", 10), name="Description"),
            seg("PWK", "O", 25),
            seg("PO4", "O", N),
            seg("REF", "O", N),
            seg("PER", "O", 3),
            sac_loop(ctp=True),
            seg("IT8", "O", 1),
            seg("CSH", "O", N),
            seg("ITD", "O", 2),
            seg("DIS", "O", 20),
            seg("INC", "O", 1),
            seg("TAX", "O", N),
            seg("FOB", "O", N),
            seg("SDQ", "O", 500),
            seg("IT3", "O", 5),
            seg("DTM", "O", 10),
            seg("TC2", "O", N),
            seg("TD1", "O", 1),
            seg("TD5", "O", 12),
            seg("TD3", "O", 12),
            seg("TD4", "O", 5),
            seg("PCT", "O", N),
            seg("MAN", "O", 10),
            *text,
            seg("TXI", "O", N),
            seg("CTB", "O", N),
            qty_loop(),
            loop(
                "SCH",
                "O",
                200,
                seg("SCH", "M"),
                *carrier(),
                seg("REF", "O", N),
                name="Line Item Schedule",
            ),
            loop("PKG", "O", 200, seg("PKG", "M"), seg("MEA", "O", N), name="Packaging"),
            n9_loop(1000, mea=True),
            n1_loop(
                200,
                seg("QTY", "O", N),
                seg("NX2", "O", N),
                seg("REF", "O", 12),
                seg("PER", "O", 3),
                seg("SI", "O", N),
                seg("DTM", "O", 1),
                seg("FOB", "O", 1),
                seg("SCH", "O", 200),
                *carrier(),
                seg("PKG", "O", 200),
            ),
            loop(
                "SLN",
                "O",
                1000,
                seg("SLN", "M"),
                *text,
                seg("SI", "O", N),
                seg("PID", "O", 1000),
                seg("PO3", "O", 104),
                *([seg("MEA", "O", N)] if five else []),
                seg("TC2", "O", N),
                seg("ADV", "O", N),
                seg("DTM", "O", 10),
                seg("CTP", "O", 25),
                seg("PAM", "O", 10),
                seg("PO4", "O", 1),
                seg("TAX", "O", 3),
                loop(
                    "N9",
                    "O",
                    N,
                    seg("N9", "M"),
                    seg("DTM", "O", N),
                    *text,
                    name="Reference Identification",
                ),
                sac_loop(ctp=True),
                qty_loop(),
                n1_loop(
                    10,
                    seg("NX2", "O", N),
                    seg("REF", "O", 12),
                    seg("PER", "O", 3),
                    seg("SI", "O", N),
                ),
                name="Subline Item Detail",
            ),
            loop(
                "AMT",
                "O",
                N,
                seg("AMT", "M"),
                seg("REF", "O", N if five else 1),
                seg("PCT", "O", N),
                name="Monetary Amount",
            ),
            loop("LM", "O", N, seg("LM", "M"), seg("LQ", "M", N), name="Code Source"),
            name="Baseline Item Data",
        ),
        loop("CTT", "O", 1, seg("CTT", "M"), seg("AMT", "O", 1), name="Transaction Totals"),
        seg("SE", "M"),
    ]


def _structure_810(five: bool) -> list:
    """The 810 of the X12 tables, less the rarely used BAL, LM, N9, V1 and FA1 groups."""
    return [
        seg("ST", "M"),
        seg("BIG", "M"),
        seg("NTE", "O", 100),
        seg("CUR", "O"),
        seg("REF", "O", 12),
        seg("YNQ", "O", 10),
        seg("PER", "O", 3),
        _n1_loop(200, seg("REF", "O", 12), seg("PER", "O", 3), seg("DMG", "O", 1)),
        seg("ITD", "O", N),
        seg("DTM", "O", 10),
        seg("FOB", "O", 1),
        seg("PID", "O", 200),
        seg("MEA", "O", 40),
        seg("PWK", "O", 25),
        seg("PKG", "O", 25),
        seg("L7", "O", 1),
        seg("INC", "O", 1),
        seg("PAM", "O", N),
        loop(
            "IT1",
            "O",
            200000,
            seg("IT1", "M"),
            seg("CRC", "O", 1),
            seg("QTY", "O", 5),
            seg("CUR", "O", 1),
            seg("IT3", "O", 5),
            seg("TXI", "O", 10),
            seg("CTP", "O", 25),
            seg("PAM", "O", 10),
            seg("MEA", "O", 40),
            loop("PID", "O", 1000, seg("PID", "M"), seg("MEA", "O", 10), name="Description"),
            seg("PWK", "O", 25),
            seg("PKG", "O", 25),
            seg("PO4", "O", 1),
            seg("ITD", "O", 2),
            seg("REF", "O", N),
            seg("YNQ", "O", 10),
            seg("PER", "O", 5),
            seg("SDQ", "O", 500),
            seg("DTM", "O", 10),
            seg("CAD", "O", N),
            seg("L7", "O", N),
            seg("SR", "O", 1),
            _sac_loop(25, seg("TXI", "O", 10)),
            loop(
                "SLN",
                "O",
                1000,
                seg("SLN", "M"),
                seg("DTM", "O", 1),
                seg("REF", "O", N),
                seg("PID", "O", 1000),
                seg("SAC", "O", 25),
                seg("TC2", "O", 2),
                seg("TXI", "O", 10),
                name="Subline Item Detail",
            ),
            _n1_loop(200, seg("REF", "O", 12), seg("PER", "O", 3), seg("DMG", "O", 1)),
            name="Baseline Item Data (Invoice)",
        ),
        seg("TDS", "M"),
        seg("TXI", "O", 10),
        seg("CAD", "O", 1),
        seg("AMT", "O", N),
        _sac_loop(25, seg("TXI", "O", 10)),
        loop("ISS", "O", N, seg("ISS", "M"), seg("PID", "O", 1), name="Invoice Shipment Summary"),
        seg("CTT", "O"),
        seg("SE", "M"),
    ]


def _structure_820(five: bool) -> list:
    """The 820's remittance use: BPR, TRN, the N1 parties and the ENT loops with their ADX
    (adjustments not tied to one invoice) and RMR loops (one per invoice paid, with the
    invoice's own ADX). The REF loops under ADX and IT1 are flattened to REF and DTM
    segments; the TXP, DED, LX, N9 and RYL groups (tax, payroll, royalty) are left out."""

    def adx_loop(*, dtm: bool) -> Loop:
        return loop(
            "ADX",
            "O",
            N,
            seg("ADX", "M"),
            seg("NTE", "O", N),
            seg("PER", "O", N),
            *([seg("DTM", "O", 1)] if dtm else []),
            seg("REF", "O", N),
            name="Adjustment",
        )

    return [
        seg("ST", "M"),
        seg("BPR", "M"),
        seg("NTE", "O", N),
        seg("TRN", "O", 1),
        seg("CUR", "O", 1),
        seg("REF", "O", N),
        seg("DTM", "O", N),
        loop(
            "N1",
            "O",
            N,
            seg("N1", "M"),
            seg("N2", "O", N),
            seg("N3", "O", N),
            seg("N4", "O", 1),
            seg("REF", "O", N),
            seg("PER", "O", N),
            seg("RDM", "O", 1),
            seg("DTM", "O", 1),
            name="Name",
        ),
        loop(
            "ENT",
            "O",
            N,
            seg("ENT", "M"),
            loop(
                "NM1",
                "O",
                N,
                seg("NM1", "M"),
                seg("N2", "O", N),
                seg("N3", "O", N),
                seg("N4", "O", 1),
                seg("REF", "O", N),
                seg("PER", "O", N),
                name="Individual or Organizational Name",
            ),
            adx_loop(dtm=True),
            loop(
                "RMR",
                "O",
                N,
                seg("RMR", "M"),
                seg("NTE", "O", N),
                seg("REF", "O", N),
                seg("DTM", "O", N),
                loop(
                    "IT1",
                    "O",
                    N,
                    seg("IT1", "M"),
                    seg("REF", "O", N),
                    seg("DTM", "O", N),
                    seg("SAC", "O", N),
                    seg("TXI", "O", N),
                    name="Baseline Item Data (Invoice)",
                ),
                adx_loop(dtm=False),
                name="Remittance Advice Accounts Receivable Open Item Reference",
            ),
            name="Entity",
        ),
        seg("SE", "M"),
    ]


def _structure_846(five: bool) -> list:
    """The 846 of the X12 tables (heading N1 parties, LIN loop with SDQ, QTY loops and
    its own N1 loop), less the rarely used SLN sub-line detail and LS/LE groups."""
    return [
        seg("ST", "M"),
        seg("BIA", "M"),
        seg("CUR", "O"),
        seg("DTM", "O", 10),
        seg("REF", "O", 12),
        seg("PER", "O", 3),
        seg("MEA", "O", 20),
        _n1_loop(5, seg("REF", "O", 12), seg("PER", "O", 3)),
        loop("LM", "O", 10, seg("LM", "M"), seg("LQ", "M", 100), name="Code Source"),
        loop(
            "LIN",
            "M",
            10000,
            seg("LIN", "M"),
            *([seg("SI", "O", N)] if five else []),
            seg("PID", "O", 200),
            seg("MEA", "O", 40),
            seg("PKG", "O", 25),
            seg("DTM", "O", 10),
            seg("CTP", "O", 25),
            seg("CUR", "O", 1),
            seg("SAC", "O", 25),
            seg("REF", "O", N),
            seg("PER", "O", 3),
            seg("SDQ", "O", 500),
            seg("MAN", "O", 1),
            seg("UIT", "O", 5),
            seg("CS", "O", 1),
            seg("DD", "O", N),
            seg("G53", "O", 1),
            seg("PCT", "O", N),
            seg("LDT", "O", 12),
            loop("LM", "O", 10, seg("LM", "M"), seg("LQ", "M", 100), name="Code Source"),
            loop(
                "QTY",
                "O",
                99,
                seg("QTY", "M"),
                seg("UIT", "O", 12),
                seg("MEA", "O", 25),
                seg("LDT", "O", 12),
                seg("DTM", "O", 10),
                loop("SCH", "O", 25, seg("SCH", "M"), seg("MEA", "O", 25), name="Schedule"),
                name="Quantity",
            ),
            _n1_loop(200, seg("REF", "O", 12), seg("PER", "O", 3)),
            name="Item Identification",
        ),
        seg("CTT", "O"),
        seg("SE", "M"),
    ]


TRANSACTION_SETS = {
    # (set id, version family): (file name, name, functional id, structure builder)
    ("850", "4010"): ("850.4010.xml", "Purchase Order", "PO", _structure_850),
    ("850", "5010"): ("850.5010.xml", "Purchase Order", "PO", _structure_850),
    ("852", "4010"): ("852.4010.xml", "Product Activity Data", "PD", _structure_852),
    ("852", "5010"): ("852.5010.xml", "Product Activity Data", "PD", _structure_852),
    ("855", "4010"): ("855.4010.xml", "Purchase Order Acknowledgment", "PR", _structure_855),
    ("855", "5010"): ("855.5010.xml", "Purchase Order Acknowledgment", "PR", _structure_855),
    ("856", "4010"): ("856.4010.xml", "Ship Notice/Manifest", "SH", _structure_856),
    ("856", "5010"): ("856.5010.xml", "Ship Notice/Manifest", "SH", _structure_856),
    ("810", "4010"): ("810.4010.xml", "Invoice", "IN", _structure_810),
    ("810", "5010"): ("810.5010.xml", "Invoice", "IN", _structure_810),
    ("820", "4010"): ("820.4010.xml", "Payment Order/Remittance Advice", "RA", _structure_820),
    ("820", "5010"): ("820.5010.xml", "Payment Order/Remittance Advice", "RA", _structure_820),
    ("846", "4010"): ("846.4010.xml", "Inventory Inquiry/Advice", "IB", _structure_846),
    ("846", "5010"): ("846.5010.xml", "Inventory Inquiry/Advice", "IB", _structure_846),
}
FUNCTIONAL_ACKS = {
    ("997", "4010"): "997.4010.xml",
    ("997", "5010"): "997.5010.xml",
    ("999", "5010"): "999.5010.xml",
}

# maps.xml: GS08 values each map answers to (under both ISA12 00401 and 00501).
VERSION_KEYS = {
    "4010": ["004010", "004010VICS", "004010UCS", "004010X358"],
    "5010": ["005010", "005010VICS", "005010UCS"],
}
ACK_VERSION_KEYS = {
    ("997", "4010"): ["004010", "004010VICS", "004010UCS", "004010X358"],
    ("997", "5010"): ["005010", "005010X230", "005010VICS", "005010UCS"],
    ("999", "5010"): ["005010X231", "005010X231A1"],
}
INTERCHANGE_VERSIONS = ("00401", "00501")

# --------------------------------------------------------------------------------------
# XML writers
# --------------------------------------------------------------------------------------


def _usage(req: str) -> str:
    return {"M": "R", "O": "S", "X": "S"}[req]


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs) -> etree._Element:
    el = etree.SubElement(parent, tag, **attrs)
    if text is not None:
        el.text = text
    return el


def _parse_spec(spec: str) -> list[tuple[str, str]]:
    out = []
    for part in spec.split(","):
        part = part.strip()
        if part:
            num, req = part.split()
            out.append((num, req))
    return out


def _element(parent, xid: str, num: str, req: str, seq: int, *, codes=None) -> None:
    el = _sub(parent, "element", xid=xid)
    _sub(el, "data_ele", num)
    _sub(el, "name", ELEMENTS[num][3] if num in ELEMENTS else num)
    _sub(el, "usage", _usage(req))
    _sub(el, "seq", f"{seq:02d}")
    if codes is not None:  # inline codes (envelope only)
        v = _sub(el, "valid_codes")
        for code in codes:
            _sub(v, "code", code)
    elif num in CODES:
        _sub(el, "valid_codes", external=f"x12_{num}")


def _segment(parent, seg_id: str, req: str, pos: int, max_use, *, inline=None) -> None:
    name, spec, syntax = SEGMENTS[seg_id]
    s = _sub(parent, "segment", xid=seg_id)
    _sub(s, "name", name)
    _sub(s, "usage", _usage(req))
    _sub(s, "pos", f"{pos:03d}")
    _sub(s, "max_use", str(max_use))
    for note in syntax.split():
        _sub(s, "syntax", note)
    if spec == LOOSE:
        for i in range(1, 21):
            _element(s, f"{seg_id}{i:02d}", "ANY", "O", i)
        return
    for seq, (num, ereq) in enumerate(_parse_spec(spec), start=1):
        xid = f"{seg_id}{seq:02d}"
        if num in COMPOSITES:
            cname, cspec = COMPOSITES[num]
            c = _sub(s, "composite", xid=xid)
            _sub(c, "data_ele", num)
            _sub(c, "name", cname)
            _sub(c, "usage", _usage(ereq))
            _sub(c, "seq", f"{seq:02d}")
            _sub(c, "refdes", xid)
            for sub_seq, (sub_num, sub_req) in enumerate(_parse_spec(cspec), start=1):
                _element(c, f"{xid}-{sub_seq:02d}", sub_num, sub_req, sub_seq)
        else:
            _element(s, xid, num, ereq, seq, codes=(inline or {}).get(seq))


def _loop_xml(parent, node: Loop, pos: int) -> None:
    el = _sub(parent, "loop", xid=node.id)
    _sub(el, "name", node.name or node.id)
    _sub(el, "usage", _usage(node.req))
    _sub(el, "pos", f"{pos:03d}")
    _sub(el, "repeat", str(node.repeat))
    _children_xml(el, node.children)


def _children_xml(parent, children: list, *, set_id: str | None = None) -> None:
    for i, child in enumerate(children, start=1):
        pos = i * 10
        if isinstance(child, Loop):
            _loop_xml(parent, child, pos)
        elif child.id == "ST" and set_id is not None:
            _segment(parent, "ST", child.req, pos, child.max_use, inline={1: [set_id]})
        else:
            _segment(parent, child.id, child.req, pos, child.max_use)


# envelope ------------------------------------------------------------------------------

ISA_SPEC = [
    ("I01", "Authorization Information Qualifier"),
    ("I02", "Authorization Information"),
    ("I03", "Security Information Qualifier"),
    ("I04", "Security Information"),
    ("I05", "Interchange ID Qualifier"),
    ("I06", "Interchange Sender ID"),
    ("I05", "Interchange ID Qualifier"),
    ("I07", "Interchange Receiver ID"),
    ("I08", "Interchange Date"),
    ("I09", "Interchange Time"),
    ("I10", "Interchange Control Standards Identifier"),
    ("I11", "Interchange Control Version Number"),
    ("I12", "Interchange Control Number"),
    ("I13", "Acknowledgment Requested"),
    ("I14", "Interchange Usage Indicator"),
    ("I15", "Component Element Separator"),
]


def _isa(parent, icvn: str) -> None:
    s = _sub(parent, "segment", xid="ISA")
    _sub(s, "name", "Interchange Control Header")
    _sub(s, "end_tag", "IEA")
    _sub(s, "usage", "R")
    _sub(s, "pos", "010")
    _sub(s, "max_use", "1")
    for seq, (num, _name) in enumerate(ISA_SPEC, start=1):
        codes = None
        if seq == 11:
            num = "I10" if icvn == "00401" else "I65"
            codes = ["U"] if icvn == "00401" else None
        elif seq == 12:
            codes = [icvn]  # pyx12 reads the map's version from ISA12's first code
        elif num in CODES:
            codes = CODES[num]
        _element(s, f"ISA{seq:02d}", num, "M", seq, codes=codes)


def _gs(parent) -> None:
    s = _sub(parent, "segment", xid="GS")
    _sub(s, "name", "Functional Group Header")
    _sub(s, "end_tag", "GE")
    _sub(s, "usage", "R")
    _sub(s, "pos", "010")
    _sub(s, "max_use", "1")
    for seq, num in enumerate(["479", "142", "124", "373", "337", "28", "455", "480"], start=1):
        _element(s, f"GS{seq:02d}", num, "M", seq, codes=CODES.get(num))


def _trailer(parent, seg_id: str, name: str, pos: str, nums: list[str]) -> None:
    s = _sub(parent, "segment", xid=seg_id)
    _sub(s, "name", name)
    _sub(s, "usage", "R")
    _sub(s, "pos", pos)
    _sub(s, "max_use", "1")
    for seq, num in enumerate(nums, start=1):
        _element(s, f"{seg_id}{seq:02d}", num, "M", seq)


def _ta1(parent) -> None:
    s = _sub(parent, "segment", xid="TA1")
    _sub(s, "name", "Interchange Acknowledgment")
    _sub(s, "usage", "S")
    _sub(s, "pos", "020")
    _sub(s, "max_use", ">1")
    codes = {4: ["A", "E", "R"]}
    for seq, num in enumerate(["I12", "I08", "I09", "I17", "I18"], start=1):
        _element(s, f"TA1{seq:02d}", num, "M", seq, codes=codes.get(seq))


def _strip_empty_codes(root: etree._Element) -> None:
    for v in root.iter("valid_codes"):
        if len(v) == 0 and v.get("external") is None:
            v.getparent().remove(v)


def _envelope(xid: str, name: str, icvn: str, body=None) -> etree._Element:
    """The map root with ISA/GS/GE/IEA; ``body(gs_loop)`` fills in the ST loop."""
    root = etree.Element("transaction", xid=xid)
    _sub(root, "name", name)
    isa_loop = _sub(root, "loop", xid="ISA_LOOP", type="explicit")
    _sub(isa_loop, "name", "Interchange Control Header")
    _sub(isa_loop, "usage", "R")
    _sub(isa_loop, "pos", "001")
    _sub(isa_loop, "repeat", ">1")
    _isa(isa_loop, icvn)
    gs_loop = _sub(isa_loop, "loop", xid="GS_LOOP", type="explicit")
    _sub(gs_loop, "name", "Functional Group Header")
    _sub(gs_loop, "usage", "R")
    _sub(gs_loop, "pos", "020")
    _sub(gs_loop, "repeat", ">1")
    _gs(gs_loop)
    if body is not None:
        body(gs_loop)
    _trailer(gs_loop, "GE", "Functional Group Trailer", "030", ["97", "28"])
    _ta1(isa_loop)
    _trailer(isa_loop, "IEA", "Interchange Control Trailer", "030", ["I16", "I12"])
    _strip_empty_codes(root)
    return root


def _st_loop(gs_loop) -> etree._Element:
    st_loop = _sub(gs_loop, "loop", xid="ST_LOOP", type="explicit")
    _sub(st_loop, "name", "Transaction Set Header")
    _sub(st_loop, "usage", "R")
    _sub(st_loop, "pos", "020")
    _sub(st_loop, "repeat", ">1")
    return st_loop


def build_transaction_map(set_id: str, family: str) -> etree._Element:
    _file, name, _fid, builder = TRANSACTION_SETS[(set_id, family)]
    icvn = "00501" if family == "5010" else "00401"

    def body(gs_loop):
        _children_xml(_st_loop(gs_loop), builder(family == "5010"), set_id=set_id)

    return _envelope(set_id, f"{name} {set_id} ({family[0]}0{family[1:]})", icvn, body)


def build_control_map(icvn: str) -> etree._Element:
    return _envelope("X12", "X12 Control", icvn)


def _pyx12_tree(name: str) -> etree._Element:
    with PYX12_MAP_DIR.joinpath(name).open("rb") as fh:
        return etree.parse(fh, etree.XMLParser(remove_comments=True)).getroot()


def build_ack_map(set_id: str, family: str) -> etree._Element:
    """pyx12's own 997/999 body, moved into our envelope and opened up: AK101/AK201 take
    any functional id / set id (pyx12's lists are HIPAA ones), and the 997 knows the
    005010 elements (AK103, AK203, the third AK401 component, AK403 12 and 13)."""
    source = _pyx12_tree("997.4010.xml" if set_id == "997" else "999.5010X231.A1.xml")
    st_loop_src = source.find("loop/loop/loop")
    assert st_loop_src is not None and st_loop_src.get("xid") == "ST_LOOP"
    for el in st_loop_src.iter("element"):
        if el.get("xid") in ("AK101", "AK201", "ST03"):
            for v in el.findall("valid_codes"):
                el.remove(v)
    if set_id == "997":
        _widen_997(st_loop_src)
    else:
        _widen_999(st_loop_src)
    icvn = "00401" if family == "4010" else "00501"

    st_loop_src.find("pos").text = "020"  # after our GS (010), before our GE (030)

    def body(gs_loop):
        gs_loop.append(st_loop_src)

    title = "Functional Acknowledgment 997" if set_id == "997" else "Implementation Ack 999"
    return _envelope(set_id, title, icvn, body)


def _widen_999(st_loop: etree._Element) -> None:
    """One map serves GS08 005010X231 and 005010X231A1. X231 lets a context CTX name the
    component too (CTX06-02, "Component Data Element Reference Number", situational, as in
    the guide's example ``CTX06 C023:1325``); pyx12's A1 body marks it not used. The
    wider of the two is taken, as for the data element lengths."""
    for segment in st_loop.iter("segment"):
        if segment.get("xid") != "CTX":
            continue
        for el in segment.iter("element"):
            if el.get("xid") == "CTX06-02":
                el.find("usage").text = "S"


def _widen_997(st_loop: etree._Element) -> None:
    def add_after(segment_xid: str, after_xid: str, xid: str, num: str, seq: int) -> None:
        segment = next(s for s in st_loop.iter("segment") if s.get("xid") == segment_xid)
        after = next(e for e in segment.iter("element") if e.get("xid") == after_xid)
        new = etree.Element("element", xid=xid)
        _sub(new, "data_ele", num)
        _sub(new, "name", ELEMENTS[num][3])
        _sub(new, "usage", "S")
        _sub(new, "seq", f"{seq:02d}")
        after.addnext(new)

    add_after("AK1", "AK102", "AK103", "480", 3)
    add_after("AK2", "AK202", "AK203", "1705", 3)
    ak4 = next(s for s in st_loop.iter("segment") if s.get("xid") == "AK4")
    composite = ak4.find("composite")
    third = etree.SubElement(composite, "element", xid="AK401-03")
    _sub(third, "data_ele", "1686")
    _sub(third, "name", ELEMENTS["1686"][3])
    _sub(third, "usage", "S")
    _sub(third, "seq", "03")
    ak403 = next(e for e in ak4.iter("element") if e.get("xid") == "AK403")
    codes = ak403.find("valid_codes")
    for code in ("12", "13"):
        _sub(codes, "code", code)


# dictionary files ------------------------------------------------------------------------


def build_dataele() -> etree._Element:
    merged: dict[str, tuple[str, str, str, str]] = {}
    for el in _pyx12_tree("dataele.xml").iter("data_ele"):
        merged[el.get("ele_num")] = (
            el.get("data_type"),
            el.get("min_len"),
            el.get("max_len"),
            el.get("name"),
        )
    for num, (dtype, lo, hi, name) in ELEMENTS.items():
        merged[num] = (dtype, str(lo), str(hi), name)
    root = etree.Element("data_elements")
    for num in sorted(merged, key=_element_sort_key):
        dtype, lo, hi, name = merged[num]
        etree.SubElement(
            root, "data_ele", ele_num=num, data_type=dtype, min_len=lo, max_len=hi, name=name
        )
    return root


def _element_sort_key(num: str) -> tuple[int, int, str]:
    return (0, int(num), "") if is_digits(num) else (1, 0, num)


def build_codes() -> etree._Element:
    root = _pyx12_tree("codes.xml")
    for num, codes in CODES.items():
        cs = etree.SubElement(root, "codeset")
        _sub(cs, "id", f"x12_{num}")
        _sub(cs, "name", ELEMENTS[num][3])
        _sub(cs, "data_ele", num)
        version = _sub(cs, "version")
        for code in codes:
            _sub(version, "code", code)
    return root


def build_index() -> etree._Element:
    root = etree.Element("maps")
    for icvn in INTERCHANGE_VERSIONS:
        v = etree.SubElement(root, "version", icvn=icvn)
        for (set_id, family), (file_name, _name, fid, _b) in TRANSACTION_SETS.items():
            for vriic in VERSION_KEYS[family]:
                _sub(v, "map", file_name, vriic=vriic, fic=fid, abbr=set_id)
        for (set_id, family), file_name in FUNCTIONAL_ACKS.items():
            for vriic in ACK_VERSION_KEYS[(set_id, family)]:
                _sub(v, "map", file_name, vriic=vriic, fic="FA", abbr=set_id)
        _sub(v, "map", f"x12.control.{icvn}.xml", vriic="", fic="", abbr="X12")
    return root


# --------------------------------------------------------------------------------------


def build_all() -> dict[str, bytes]:
    """Every file of the map directory, name -> bytes."""
    trees: dict[str, etree._Element] = {
        "maps.xml": build_index(),
        "dataele.xml": build_dataele(),
        "codes.xml": build_codes(),
    }
    for icvn in INTERCHANGE_VERSIONS:
        trees[f"x12.control.{icvn}.xml"] = build_control_map(icvn)
    for (set_id, family), (file_name, *_rest) in TRANSACTION_SETS.items():
        trees[file_name] = build_transaction_map(set_id, family)
    for (set_id, family), file_name in FUNCTIONAL_ACKS.items():
        trees[file_name] = build_ack_map(set_id, family)
    _check(trees)
    header = (
        "Generated by `python -m smi_edi.x12.maps_build` from pyx12 4.0.0's map files "
        "(LICENSE: BSD, John Holland) and the X12 standard's tables. Do not edit."
    )
    out = {}
    for name, root in trees.items():
        root.insert(0, etree.Comment(f" {header} "))
        out[name] = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return out


def _check(trees: dict[str, etree._Element]) -> None:
    """Every element a map refers to is in dataele.xml; every external code set exists."""
    known = {el.get("ele_num") for el in trees["dataele.xml"].iter("data_ele")}
    codesets = {cs.findtext("id") for cs in trees["codes.xml"].iter("codeset")}
    problems = []
    for name, root in trees.items():
        for el in root.iter("element"):
            num = el.findtext("data_ele")
            if num not in known:
                problems.append(f"{name}: {el.get('xid')} refers to unknown element {num}")
            for v in el.findall("valid_codes"):
                ext = v.get("external")
                if ext is not None and ext not in codesets:
                    problems.append(f"{name}: {el.get('xid')} refers to unknown codes {ext}")
    for index_map in trees["maps.xml"].iter("map"):
        if index_map.text not in trees:
            problems.append(f"maps.xml names {index_map.text}, which is not built")
    if problems:
        raise ValueError("map directory is inconsistent:\n" + "\n".join(problems))


def write(directory: Path = MAPS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in build_all().items():
        path = directory / name
        path.write_bytes(data)
        written.append(path)
    return written


def stale(directory: Path = MAPS_DIR) -> list[str]:
    """Names of files that differ from (or are missing in) ``directory``."""
    return [
        name
        for name, data in build_all().items()
        if not (directory / name).is_file() or (directory / name).read_bytes() != data
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the maps are stale")
    parser.add_argument("--out", type=Path, default=MAPS_DIR, help="target directory")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.out)
        for name in names:
            print(f"stale: {name}")
        return 1 if names else 0
    for path in write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
