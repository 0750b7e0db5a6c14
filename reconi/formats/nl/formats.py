# One date format in Dutch, everywhere (pages, CSV, emails, PDFs): 01-12-2029, as Dutch
# spreadsheets write it. Django's own Dutch formats mix "1 december 2029" and "1-12-2029".
DATE_FORMAT = "d-m-Y"
SHORT_DATE_FORMAT = "d-m-Y"
DATETIME_FORMAT = "d-m-Y H:i"
SHORT_DATETIME_FORMAT = "d-m-Y H:i"
TIME_FORMAT = "H:i"
DATE_INPUT_FORMATS = ["%d-%m-%Y", "%Y-%m-%d", "%d/%m/%Y"]
