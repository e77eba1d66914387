"""The dashboard's endpoints and page are for admins only (401 without a login, 403 below
admin, JSON), and refuse bad parameters with 400 `bad_request`, changing nothing."""
import pytest

ENDPOINTS = ("/api/admin/analytics/activity", "/api/admin/analytics/engagement",
             "/api/admin/analytics/funnels", "/api/admin/analytics/community-effect",
             "/api/admin/analytics/retention", "/api/admin/analytics/events.jsonl",
             "/api/admin/experiments/welcome_tour?dataset=demo")


def test_every_dashboard_endpoint_is_for_admins_only(app, person):
    user, moderator, admin = person("user"), person("moderator"), person("admin")
    for path in ENDPOINTS:
        assert app.test_client().get(path).status_code == 401, path
        for someone in (user, moderator):
            response = someone.get(path)
            assert response.status_code == 403, path
            assert response.get_json()["error"]["code"] == "forbidden"
        assert admin.get(path).status_code == 200, path


def test_the_dashboard_page_is_for_admins_only(app, person):
    assert app.test_client().get("/admin/analytics").status_code == 302  # to the login page
    assert person("user").get("/admin/analytics").status_code == 403
    page = person("admin").get("/admin/analytics?dataset=demo")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Simulated data." in html and "vendor/chart.umd.min.js" in html


BAD = ("dataset=test", "dataset=", "from=yesterday", "to=2026-02-30",
       "from=2026-12-10&to=2026-12-01", "from=2020-01-01&to=2026-12-01")


@pytest.mark.parametrize("path", ENDPOINTS[:4])
def test_bad_parameters_are_400_with_a_json_error(person, path):
    admin = person("admin")
    for query in BAD:
        response = admin.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and error["message"], (path, query)


def test_retention_export_and_page_refuse_an_unknown_dataset(person):
    admin = person("admin")
    for path in ("/api/admin/analytics/retention?dataset=staging",
                 "/api/admin/analytics/events.jsonl?dataset=staging",
                 "/api/admin/experiments/welcome_tour?dataset=staging"):
        response = admin.get(path)
        assert response.status_code == 400, path
        assert response.get_json()["error"]["code"] == "bad_request"
    assert admin.get("/admin/analytics?dataset=staging").status_code == 400
