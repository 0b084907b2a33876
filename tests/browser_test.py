"""The web page in real headless Chromium: paint, generate, watch the animation.

Chromium and chromedriver are Debian's `chromium` and `chromium-driver`, which
`make test` installs (`tools/install_chromium.sh`) when they are missing. The
screenshot is written to `$SEG2VID_SCREENSHOT_DIR` (default: the test's tmp dir).
"""

import os
import shutil

import pytest

from seg2vid_tf import serve
from seg2vid_tf.testing.tiny_pipeline import export_tiny

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def page_url(tmp_path_factory):
    export_base, _ = export_tiny(str(tmp_path_factory.mktemp("export")), num_frames=3)
    server = serve.make_server(export_base, "seg2vid", port=0)
    serve.start_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium/chromedriver are not installed and tools/install_chromium.sh could "
                    "not install them here (see /tmp/install_chromium.log)")
    from selenium import webdriver  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000"):
        options.add_argument(argument)
    options.binary_location = CHROMIUM
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def _body(driver, attribute):
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
    return driver.find_element(By.TAG_NAME, "body").get_attribute(attribute)


def test_paint_generate_and_watch(page_url, browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains  # noqa: E501 pylint: disable=import-outside-toplevel
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.support.ui import WebDriverWait  # pylint: disable=import-outside-toplevel

    browser.get(page_url)
    WebDriverWait(browser, 60).until(lambda d: _body(d, "data-ready") == "1")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".swatch")) == 20
    canvas = browser.find_element(By.ID, "paint")
    before = browser.execute_script("return Array.from(state.ids.slice(0, 128 * 128))")
    browser.find_elements(By.CSS_SELECTOR, ".swatch")[13].click()  # car
    ActionChains(browser).move_to_element_with_offset(canvas, -80, 90).click_and_hold() \
        .move_by_offset(120, 0).move_by_offset(0, 30).release().perform()
    browser.find_elements(By.CSS_SELECTOR, ".swatch")[11].click()  # person
    ActionChains(browser).move_to_element_with_offset(canvas, 60, 40).click_and_hold() \
        .move_by_offset(0, 50).release().perform()
    after = browser.execute_script("return Array.from(state.ids.slice(0, 128 * 128))")
    painted = sum(1 for old, new in zip(before, after) if old != new)
    assert painted > 100 and 13 in after and 11 in after
    browser.find_element(By.ID, "generate").click()
    WebDriverWait(browser, 300).until(
        lambda d: _body(d, "data-generated") == "1" or d.find_element(By.ID, "error").text)
    assert browser.find_element(By.ID, "error").text == ""
    # The animation moves on by itself (a frame every 250 ms): wait for two more frames.
    # The deadline only guards against a page that never animates.
    shown = int(_body(browser, "data-frames-shown"))
    WebDriverWait(browser, 60).until(lambda d: int(_body(d, "data-frames-shown")) >= shown + 2)
    video = browser.find_element(By.ID, "video")
    assert video.get_attribute("src").startswith("data:image/png;base64,")
    assert browser.execute_script("return arguments[0].naturalWidth", video) == 128
    # Frame 0 has no flow and clears the canvas, so read it while a later frame shows: the
    # frame index and the pixels are read in one script, which no animation tick can split.
    shown_flow = WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "const index = Number(document.getElementById('video').dataset.frameIndex);"
        "if (index === 0) return null;"
        "const c = document.getElementById('flow');"
        "const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "return {index: index, nonzero: data.slice(0, 4000).some((value) => value !== 0)};"))
    assert shown_flow["index"] > 0 and shown_flow["nonzero"]
    # "Another future": the next seeds for the same map, side by side, each its own video.
    first_seed = int(browser.find_element(By.ID, "seed").get_attribute("value"))
    for count in ("2", "3"):
        browser.find_element(By.ID, "another").click()
        WebDriverWait(browser, 300).until(
            lambda d, count=count: (_body(d, "data-futures") == count
                                    and d.find_element(By.ID, "another").is_enabled())
            or d.find_element(By.ID, "error").text)
        assert browser.find_element(By.ID, "error").text == ""
    futures = browser.execute_script(
        "return state.futures.map((f) => [f.seed, f.frames.length, f.frames[f.frames.length - 1]])")
    assert [seed for seed, _, _ in futures] == [first_seed, first_seed + 1, first_seed + 2]
    assert {length for _, length, _ in futures} == {4}
    assert len({last for _, _, last in futures}) == 3  # three different futures
    strip = browser.find_elements(By.CSS_SELECTOR, "#futures figure")
    assert [figure.text for figure in strip] == [f"seed {seed}" for seed, _, _ in futures]
    directory = os.environ.get("SEG2VID_SCREENSHOT_DIR", str(tmp_path))
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "page.png")
    assert browser.save_screenshot(path) and os.path.getsize(path) > 10000


def test_server_errors_are_shown_in_words(page_url, browser):
    from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
    from selenium.webdriver.support.ui import WebDriverWait  # pylint: disable=import-outside-toplevel

    browser.get(page_url)
    WebDriverWait(browser, 60).until(lambda d: _body(d, "data-ready") == "1")
    # A map of ids out of range, as a broken upload would give: the server's message shows.
    browser.execute_script("state.ids.fill(40)")
    browser.find_element(By.ID, "generate").click()
    WebDriverWait(browser, 120).until(lambda d: d.find_element(By.ID, "error").text)
    message = browser.find_element(By.ID, "error").text
    assert "HTTP 400" in message and "outside the train ids" in message
