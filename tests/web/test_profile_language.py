"""The profile's language sets the language cookie; choosing "as the browser asks" removes it."""


def test_clearing_the_profile_language_hands_the_choice_back_to_the_browser(client, trader_a):
    client.force_login(trader_a)
    client.post("/profile/", {"language": "zh-hans"})
    assert "个人资料" in client.get("/profile/").content.decode()

    response = client.post("/profile/", {"language": ""})
    assert response.cookies["django_language"].value == ""  # deleted
    trader_a.refresh_from_db()
    assert trader_a.language == ""
    assert "Your details" in client.get("/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "个人信息" in client.get("/profile/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
