"""The page: a side panel with the Slicer panel's sections (Load, AI, Results, Annotate, Export)
and the Slicer views beside it. Widgets only: each control is bound to a state value or to one
handler of :class:`BreastUSAIWeb.app.BreastUSAIWebApp`; element ids name them for tests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from trame.widgets import html
from trame_vuetify.ui.vuetify3 import SinglePageWithDrawerLayout
from trame_vuetify.widgets import vuetify3 as v

if TYPE_CHECKING:
    from .app import BreastUSAIWebApp


def _section(title: str) -> None:
    html.Div(title, classes="text-subtitle-2 mt-3 mb-1")


def buildPage(app: BreastUSAIWebApp) -> None:
    state, ctrl = app.state, app.server.controller
    # a click sends the fields it acts on with it: the server never acts on a value the page has not synced yet
    ctrl.load_path = app.loadPath
    ctrl.run_ai = app.runAI
    ctrl.fit_views = app.fitViews
    ctrl.cancel = app.cancel
    ctrl.select_lesion = app.selectLesion
    ctrl.save_annotation = app.saveAnnotation
    ctrl.export = app.export
    ctrl.export_dicom = app.exportDicom
    state.change("upload_files")(lambda upload_files, **_: app.onUpload(upload_files))
    state.change("heatmap_opacity")(lambda heatmap_opacity, **_: app.setOpacity(heatmap_opacity))
    state.change("edit_tool")(lambda edit_tool, **_: app.setTool(edit_tool))
    state.change("chosen_kind")(lambda chosen_kind, **_: chosen_kind and app.setKind(chosen_kind))

    with SinglePageWithDrawerLayout(app.server, full_height=True) as layout:
        layout.title.set_text("BreastUSAI - breast ultrasound AI (research use only)")
        layout.drawer.width = 420
        with layout.toolbar:
            v.VSpacer()
            html.Span("{{ image_name }}", id="image-name", classes="mx-2")
        with layout.drawer:
            with html.Div(classes="pa-3"):
                v.VAlert(v_if="error", text=("error",), type="error", density="compact", id="error",
                         closable=True, click_close="error = ''")
                html.Div("{{ status }}", id="status", classes="text-body-2 mb-2", style="white-space: pre-line")

                _section("1. Load an image")
                v.VFileInput(v_model=("upload_files", None), label="Upload (NRRD, NIfTI, PNG/JPEG, DICOM)", multiple=True,
                             density="compact", id="upload", show_size=True, disabled=("running",))
                with html.Div(classes="d-flex"):
                    v.VTextField(v_model=("server_path", ""), label="or a file / DICOM folder on the server",
                                 density="compact", id="server-path", hide_details=True)
                    v.VBtn("Load", click=(ctrl.load_path, "[server_path]"), id="load", classes="ml-2", disabled=("running",))
                with html.Div(classes="d-flex align-center mt-1"):
                    html.Div("Kind: {{ image_kind }}", id="image-kind", classes="text-body-2")
                    v.VSpacer()
                    v.VBtn("Fit image", click=ctrl.fit_views, id="fit", size="small", variant="text")
                v.VSelect(v_model=("chosen_kind", None), items=("kind_choices",), label="Set the kind", density="compact",
                          hide_details=True, id="kind")

                _section("2. AI")
                v.VSelect(v_model=("chosen_models", []), items=("model_choices",), multiple=True, chips=True,
                          closable_chips=True, density="compact", hide_details=True, id="models",
                          label="Models (none chosen: the shipped ones that fit the image)", classes="mb-2")
                with html.Div(classes="d-flex align-center"):
                    v.VBtn("Run AI", click=(ctrl.run_ai, "[chosen_models]"), disabled=("running",), color="primary", id="run-ai")
                    v.VBtn("Cancel", click=ctrl.cancel, disabled=("!running",), classes="ml-2", id="cancel")
                v.VProgressLinear(model_value=("progress",), height=6, classes="mt-2", id="progress")

                _section("3. Results")
                with html.Table(classes="results", id="results", style="width: 100%; font-size: 0.85em"):
                    with html.Tr():
                        for title in ("Lesion", "Size", "P(malignant)", "Call", "Models"):
                            html.Th(title, style="text-align: left")
                    with html.Tr(v_for="row in lesion_rows", key="row.lesion", click=(ctrl.select_lesion, "[row.lesion]"),
                                 style=("{cursor: 'pointer', background: row.lesion == selected_lesion ? '#cfe3ff' : ''}",),
                                 classes="lesion-row"):
                        html.Td("{{ row.lesion }}")
                        html.Td("{{ row.size }}")
                        html.Td("{{ row.probability === null ? '' : row.probability.toFixed(2) }}")
                        html.Td("{{ row.call }}")
                        html.Td("{{ row.models }}", style="font-size: 0.8em")
                with html.Div(id="opacity-box"):
                    v.VSlider(v_model=("heatmap_opacity", 0.5), min=0, max=1, step=0.05, label="Heatmap opacity",
                              density="compact", hide_details=True, thumb_label=True)
                html.Div("Prototypes MUP-Net matched (contribution):", v_if="prototypes.length", classes="text-body-2")
                with html.Div(classes="d-flex flex-wrap", id="prototypes"):
                    with html.Div(v_for="patch in prototypes", classes="ma-1 prototype", style="width: 120px"):
                        html.Img(src=("patch.image",), style="width: 112px; image-rendering: pixelated")
                        html.Div("{{ patch.title }}: {{ patch.contribution }}", classes="text-caption")
                        html.Div("{{ patch.source }}", classes="text-caption")

                _section("4. Annotate the selected lesion")
                with v.VBtnToggle(v_model=("edit_tool", "none"), density="compact", mandatory=True, id="tools"):
                    for name in ("none", "paint", "erase", "scissors", "islands"):
                        v.VBtn(name, value=name, id=f"tool-{name}", size="small")
                v.VSelect(v_model=("pathology", ""), items=("choices.pathologies",), label="Pathology", density="compact",
                          hide_details=True, id="pathology", classes="mt-2")
                v.VSelect(v_model=("birads", ""), items=("choices.birads",), label="BI-RADS", density="compact",
                          hide_details=True, id="birads")
                v.VTextField(v_model=("clinical", ""), label="Clinical (age=54; family_history=1)", density="compact",
                             hide_details=True, id="clinical")
                v.VTextarea(v_model=("note", ""), label="Note", rows=2, density="compact", hide_details=True, id="note")
                v.VBtn("Save annotation", click=(ctrl.save_annotation, "[pathology, birads, clinical, note]"),
                       id="save-annotation", classes="mt-1")

                _section("5. Export the annotated lesions (dataset for train)")
                v.VTextField(v_model=("export_folder", ""), label="Folder on the server", density="compact",
                             hide_details=True, id="export-folder")
                with html.Div(classes="d-flex"):
                    v.VBtn("Export", click=(ctrl.export, "[export_folder]"), id="export", classes="mt-1")
                    v.VBtn("DICOM SEG + SR", click=(ctrl.export_dicom, "[export_folder]"), id="export-dicom", classes="mt-1 ml-2",
                           title="the lesions of a DICOM image, for the same PACS")
                html.Pre("{{ export_report }}", id="export-report", style="white-space: pre-wrap; font-size: 0.8em")
                html.Pre("{{ log }}", style="white-space: pre-wrap; font-size: 0.7em; max-height: 8em; overflow-y: auto",
                         id="log")
        with layout.content:
            with html.Div(style="position: relative; width: 100%; height: calc(100vh - 90px)", id="views"):
                app.layouts.initialize_layout_grid(layout)
    app.ui = layout
