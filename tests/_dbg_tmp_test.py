from test_pages import *
def test_dbg(data_dir, monkeypatch, simulator):
    at = open_page("pages/settings.py")
    print("demo settings", [c.value for c in at.sidebar.caption], [type(n).__name__ for n in at.sidebar])
    at = open_page()
    print("demo gen", [c.value for c in at.sidebar.caption], [type(n).__name__ for n in at.sidebar])
    monkeypatch.setenv("RUNWARE_API_KEY", FAKE_KEY)
    monkeypatch.setenv("RUNWARE_API_URL", simulator.url)
    at = open_page()
    print("api gen", [c.value for c in at.sidebar.caption], [type(n).__name__ for n in at.sidebar])
    at = new_app(); at.run()
    print("api gen fresh", [c.value for c in at.sidebar.caption], [type(n).__name__ for n in at.sidebar], at.exception)
    assert 0
