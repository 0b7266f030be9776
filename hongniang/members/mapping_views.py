"""The import's mapping screen: the file's columns beside the member fields, with a guess for
each, sample values, the sheet read and saved mappings; the clerk confirms or changes each column
and may save the mapping under a name; the saved mappings have a screen of their own (list, rename,
delete). The work is in ``members.importing.mapping``."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from openpyxl.utils import get_column_letter

from hongniang.members import excel, import_views
from hongniang.members.importing import mapping as m
from hongniang.members.importing.sources import cell_text, open_source
from hongniang.staff.permissions import require_perm
from hongniang.workbench.forms import StyledFormMixin
from hongniang.workbench.listing import paginate

SAMPLE_ROWS = 20  # rows read for the guess
SAMPLES_SHOWN = 3  # values shown per column


class MappingForm(StyledFormMixin, forms.Form):
    """One select per column of the file (a field, or empty: skip), and a name to save under."""

    save_as = forms.CharField(
        label=gettext_lazy("Save this mapping as"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Optional: offered again for files with the same headers."),
    )

    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", _("— skip this column —")), *m.field_choices()]
        for i, header in enumerate(headers):
            self.fields[f"col_{i}"] = forms.ChoiceField(
                label=header or get_column_letter(i + 1), choices=choices, required=False
            )
            self.fields[f"col_{i}"].widget.attrs["class"] = "form-select"

    def column_fields(self):
        return [self[f"col_{i}"] for i in range(len(self.headers))]

    def mapping(self) -> list[str | None]:
        return [self.cleaned_data.get(f"col_{i}") or None for i in range(len(self.headers))]

    def clean(self):
        cleaned = super().clean()
        chosen = self.mapping()
        twice = m.duplicated(chosen)
        if twice:
            raise ValidationError(
                _("Each field can take one column only; chosen more than once: %(fields)s.")
                % {"fields": "、".join(m.field_label(k) for k in twice)}
            )
        missing = m.missing_required(chosen)
        if missing:
            raise ValidationError(
                _("Choose a column for every required field: %(fields)s.")
                % {"fields": "、".join(m.field_label(k) for k in missing)}
            )
        return cleaned


def _initial(request, entry: dict, source, saved) -> tuple[list[str | None], str]:
    """The mapping to show and where it comes from ("saved", "session" or "guess")."""
    width = len(source.headers)
    chosen = request.GET.get("saved")
    for mapping in saved:
        if chosen and str(mapping.pk) == chosen:
            return m.clean_mapping(mapping.mapping, width), "saved"
    kept = entry.get("mapping") or []
    if len(kept) == width and (entry.get("sheet") or None) in (None, source.sheet_name):
        return m.clean_mapping(kept, width), "session"
    if saved and not chosen:
        return m.clean_mapping(saved[0].mapping, width), "saved"
    samples = source.sample_rows(SAMPLE_ROWS)
    return m.guess_mapping(source.headers, samples), "guess"


def _samples(source) -> list[list[str]]:
    """Up to SAMPLES_SHOWN non-blank values of each column, as text."""
    shown: list[list[str]] = [[] for _h in source.headers]
    for values in source.sample_rows(SAMPLE_ROWS):
        for i, value in enumerate(values):
            text = cell_text(value)
            if text and len(shown[i]) < SAMPLES_SHOWN:
                shown[i].append(text if len(text) <= 30 else text[:29] + "…")
    return shown


@require_perm("members", "add")
def import_mapping(request, token):
    entry = import_views.pending_upload(request, token)
    path = excel.upload_path(token)
    if not path.exists():
        import_views._forget(request, token)
        messages.error(request, _("This upload has expired. Please upload the file again."))
        return redirect("members:import")
    sheet = (request.POST if request.method == "POST" else request.GET).get("sheet") or entry.get(
        "sheet"
    )
    try:
        source = open_source(path, sheet=sheet, file_name=entry.get("name", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        if sheet and sheet != entry.get("sheet"):
            return redirect("members:import_mapping", token)
        import_views._forget(request, token)
        return redirect("members:import")
    saved = list(m.saved_mappings_for(request.user, source.headers)[:10])
    mapping, origin = _initial(request, entry, source, saved)
    initial = {f"col_{i}": key or "" for i, key in enumerate(mapping)}
    form = MappingForm(request.POST or None, headers=source.headers, initial=initial)
    if request.method == "POST" and form.is_valid():
        chosen = form.mapping()
        entry["mapping"] = chosen
        entry["sheet"] = source.sheet_name or None
        entry["header_row"] = source.header_row
        entry.pop("preview", None)
        import_views.save_pending(request, token, entry)
        name = form.cleaned_data["save_as"].strip()
        if name:
            m.save_mapping(request.user, name, source.headers, chosen)
            messages.success(request, _("The mapping “%(name)s” was saved.") % {"name": name})
        return redirect("members:import_preview", token)
    current = form.mapping() if form.is_bound and hasattr(form, "cleaned_data") else mapping
    samples = _samples(source)
    columns = [
        {
            "letter": get_column_letter(i + 1),
            "header": header,
            "samples": samples[i],
            "field": bound,
            "guessed": mapping[i],
        }
        for i, (header, bound) in enumerate(zip(source.headers, form.column_fields(), strict=True))
    ]
    context = {
        "token": token,
        "file_name": entry.get("name", ""),
        "source": source,
        "columns": columns,
        "form": form,
        "origin": origin,
        "saved": saved,
        "missing": [m.field_label(k) for k in m.missing_required(current)],
        "required": [m.field_label(k) for k in m.required_fields()],
    }
    return render(request, "members/import_mapping.html", context)


# --- Saved mappings: list, rename, delete -----------------------------------------------------


class RenameMappingForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=pgettext_lazy("mapping", "Name"), max_length=60)


def _saved_mapping(request, pk):
    """One of the user's own mappings (those of colleagues are used, not renamed or deleted);
    404 for any other, never saying it exists."""
    return get_object_or_404(m.mappings_of(request.user), pk=pk, created_by=request.user)


@require_perm("members", "add")
def saved_mappings(request):
    query = request.GET.get("q", "").strip()[:60]
    mappings = m.mappings_of(request.user).select_related("created_by")
    if query:
        mappings = mappings.filter(name__icontains=query)
    page = paginate(request, mappings)
    for mapping in page.object_list:
        mapping.used_columns = [
            f"{header} → {m.field_label(key)}"
            for header, key in zip(mapping.headers, mapping.mapping, strict=False)
            if key
        ]
    return render(request, "members/saved_mappings.html", {"page": page, "query": query})


@require_perm("members", "add")
def saved_mapping_rename(request, pk):
    mapping = _saved_mapping(request, pk)
    form = RenameMappingForm(request.POST or None, initial={"name": mapping.name})
    if request.method == "POST" and form.is_valid():
        try:
            m.rename_mapping(mapping, form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error("name", exc)
        else:
            messages.success(
                request, _("The mapping was renamed “%(name)s”.") % {"name": mapping.name}
            )
            return redirect("members:saved_mappings")
    return render(request, "members/saved_mapping_rename.html", {"mapping": mapping, "form": form})


@require_perm("members", "add")
def saved_mapping_delete(request, pk):
    """GET asks for confirmation; POST deletes."""
    mapping = _saved_mapping(request, pk)
    if request.method == "POST":
        name = mapping.name
        m.delete_mapping(mapping)
        messages.success(request, _("The mapping “%(name)s” was deleted.") % {"name": name})
        return redirect("members:saved_mappings")
    return render(request, "members/saved_mapping_delete.html", {"mapping": mapping})
