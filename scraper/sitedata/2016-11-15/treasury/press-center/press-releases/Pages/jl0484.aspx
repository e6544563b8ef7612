<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html dir="ltr" lang="en-US">
<head><meta http-equiv="X-UA-Compatible" content="IE=8" /><meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<title>
	U.S.-China Strategic and Economic Dialogue Economic Track Joint Fact Sheet
</title>
<link rel="stylesheet" type="text/css" href="/_layouts/1033/styles/Themable/corev4.css?rev=ox%2BqLNXVAOjlAUM7fJ5EVg%3D%3D" />
<script type="text/javascript">var _spPageContextInfo = {webServerRelativeUrl: "\u002fpress-center\u002fpress-releases", webLanguage: 1033, currentLanguage: 1033, pageListId: "{7e1d4a4c-9a4f-4ce0-a0b4-1c3e0b7f8a66}", pageItemId: 5484};</script>
</head>
<body scroll="no" onload="javascript:_spBodyOnLoadWrapper();">
<form name="aspnetForm" method="post" action="jl0484.aspx" id="aspnetForm">
<div>
<input type="hidden" name="__REQUESTDIGEST" id="__REQUESTDIGEST" value="0x5E1B2C7A9F4D3E8B,07 Jun 2016 14:22:31 -0000" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="/wEPDwUBMA9kFgJmD2QWAgIBD2QWAgIDD2QWAgIBD2QWAmYPZBYCAgEPZBYCZg9kFgJmD2QWAgIBDxYCHgdWaXNpYmxlaGRkZA==" />
</div>
<div id="s4-workspace"><div id="s4-bodyContainer">
<div id="header" class="treasury-header">
<a href="/Pages/default.aspx"><img src="/SiteCollectionImages/treasury-seal.png" alt="U.S. Department of the Treasury" /></a>
<ul class="topnav">
<li><a href="/about/Pages/default.aspx">About</a></li>
<li><a href="/resource-center/Pages/default.aspx">Resource Center</a></li>
<li><a href="/initiatives/Pages/default.aspx">Initiatives</a></li>
<li><a href="/services/Pages/default.aspx">Services</a></li>
<li><a href="/press-center/Pages/default.aspx">Press Center</a></li>
<li><a href="/connect/Pages/default.aspx">Connect</a></li>
</ul>
</div>
<div id="left-nav" class="press-center-nav"><ul>
<li><a href="/press-center/press-releases/Pages/default.aspx">Press Releases</a></li>
<li><a href="/press-center/statements/Pages/default.aspx">Statements &amp; Remarks</a></li>
<li><a href="/press-center/testimony/Pages/default.aspx">Testimony</a></li>
<li><a href="/press-center/media-advisories/Pages/default.aspx">Media Advisories</a></li>
</ul></div>
<div id="contentBox" role="main">
<div class="archived-banner">(Archived Content)</div>
<h1 class="press-title">U.S.-China Strategic and Economic Dialogue Economic Track Joint Fact Sheet</h1>
<div class="press-date">6/7/2016</div>
<div id="ctl00_PlaceHolderMain_ctl01__ControlWrapper_RichHtmlField" class="ms-rtestate-field" style="display:inline">
<p>BEIJING – The United States and China held the eighth meeting of the U.S.-China Strategic and Economic Dialogue (S&amp;ED) in Beijing June 6-7, 2016. The two sides announced the following outcomes of the Economic Track.</p>
<p><strong>I. Promoting Strong Domestic and Global Growth</strong></p>
<p class="MsoListParagraphCxSpFirst">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>The United States and China commit to use all policy tools – monetary, fiscal and structural – to support strong, sustainable and balanced growth.</p>
<p class="MsoListParagraphCxSpLast">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>China will continue its market-determined exchange rate reform and refrain from competitive devaluation.</p>
<p>II. Promoting Open Trade and Investment</p>
<p class="MsoListParagraphCxSpFirst">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>The two sides will intensify negotiations on a high-standard Bilateral Investment Treaty.</p>
<p class="MsoListParagraphCxSpLast">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>China will take steps to address excess capacity in steel and aluminum.</p>
<p><strong>III. Enhancing Financial Market Stability and Reform</strong></p>
<p class="MsoListParagraphCxSpFirst">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>China will designate a Renminbi clearing bank in the United States, and the two sides will work toward an RMB 250 billion RQFII quota for the United States.</p>
<p class="MsoListParagraphCxSpLast">·<span style="font:7.0pt &quot;Times New Roman&quot;">&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp;&nbsp; </span>The two sides will deepen cooperation on climate finance; see the <a href="https://www.treasury.gov/initiatives/Documents/US-China-CCWG-Report-2016.pdf">Climate Change Working Group report</a> for details.</p>
<p style="text-align:center">###</p>
</div>
</div>
<div id="footer"><ul>
<li><a href="/Pages/privacy.aspx">Privacy Policy</a></li>
<li><a href="/FOIA/Pages/index.aspx">FOIA</a></li>
<li><a href="/about/organizational-structure/ig/Pages/default.aspx">Inspector General</a></li>
<li><a href="https://www.usa.gov/">USA.gov</a></li>
</ul></div>
</div></div>
<script type="text/javascript">//<![CDATA[
var g_presenceEnabled = true; var _fV4UI=true; var _spRequestDigest = "0x5E1B2C7A9F4D3E8B";
//]]></script>
</form>
</body>
</html>
