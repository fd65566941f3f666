"""Results back as DICOM, for the PACS the images came from (highdicom).

* :mod:`.segmentation` - the lesions as a DICOM SEG referencing the source image

Patient and study identifiers are copied from the source (this output goes back to the same
PACS: the one documented exception to "no identifiers in exports"); every UID is new.
"""
