"""The paper link on CVF open access, ECVA or OpenReview must be the site's landing page, not a PDF."""

from __future__ import annotations

import pytest

from tests.catalog.test_validator import GOOD, problems_of

LANDING_PAGES = [
    # new-style CVF (2021 on), old-style (2017-2020), workshops in either layout, ACCV
    "https://openaccess.thecvf.com/content/ICCV2021/html/Liu_Swin_Transformer_Hierarchical_Vision_Transformer_Using_Shifted_Windows_ICCV_2021_paper.html",
    "https://openaccess.thecvf.com/content_cvpr_2018/html/Hu_Squeeze-and-Excitation_Networks_CVPR_2018_paper.html",
    "https://openaccess.thecvf.com/content_ECCV_2018/html/Sanghyun_Woo_Convolutional_Block_Attention_ECCV_2018_paper.html",
    "https://openaccess.thecvf.com/content_ICCVW_2019/html/NeurArch/Cao_GCNet_Non-Local_Networks_Meet_Squeeze-Excitation_Networks_and_Beyond_ICCVW_2019_paper.html",
    "https://openaccess.thecvf.com/content/CVPR2022W/ECV/html/Zhang_ResNeSt_Split-Attention_Networks_CVPRW_2022_paper.html",
    "https://openaccess.thecvf.com/content/ACCV2022/html/Zhang_EPSANet_An_Efficient_Pyramid_Squeeze_Attention_Block_on_Convolutional_Neural_ACCV_2022_paper.html",
    "https://www.ecva.net/papers/eccv_2020/papers_ECCV/html/2211_ECCV_2020_paper.php",
    "https://ecva.net/papers/eccv_2018/papers_ECCV/html/Hengshuang_Zhao_PSANet_Point-wise_Spatial_ECCV_2018_paper.php",
    "https://openreview.net/forum?id=YicbFdNTTy",
    # other hosts are not constrained by this rule
    "https://link.springer.com/chapter/10.1007/978-3-030-58555-6_12",
]

NOT_LANDING_PAGES = {
    "https://openaccess.thecvf.com/content_CVPR_2020/papers/Wang_ECA-Net_Efficient_Channel_Attention_for_Deep_Convolutional_Neural_Networks_CVPR_2020_paper.pdf": "openaccess.thecvf.com",
    "https://openaccess.thecvf.com/CVPR2020_search": "openaccess.thecvf.com",
    "http://OpenAccess.TheCVF.com/content/ICCV2021/papers/Qin_FcaNet_Frequency_Channel_Attention_Networks_ICCV_2021_paper.pdf": "openaccess.thecvf.com",
    "https://www.ecva.net/papers/eccv_2020/papers_ECCV/papers/123600188.pdf": "ecva.net",
    "https://openreview.net/pdf?id=YicbFdNTTy": "openreview.net",
}


def entry_with(url: str) -> str:
    return GOOD.replace("https://example.org/paper", url)


@pytest.mark.parametrize("url", LANDING_PAGES)
def test_landing_pages_are_accepted(tmp_path, url):
    catalog, problems = problems_of(tmp_path, {"good.yaml": entry_with(url)})
    assert problems == []
    assert catalog.by_id["good"].links.paper == url


@pytest.mark.parametrize("url", sorted(NOT_LANDING_PAGES))
def test_pdf_or_other_pages_are_reported_with_line_and_the_form_to_use(tmp_path, url):
    catalog, problems = problems_of(tmp_path, {"good.yaml": entry_with(url)})
    assert catalog is None
    assert len(problems) == 1
    host = NOT_LANDING_PAGES[url]
    assert "good.yaml:10: links.paper: " in problems[0]
    assert f"is not the {host} landing page" in problems[0]
    assert "(link " in problems[0]
