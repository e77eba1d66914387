"""The word and pattern lists shipped with Kindred, seeded into `moderation_rules` by `python -m
app.setup seed` (operators edit them at /admin/moderation/rules). Written from the taxonomy in
docs/moderation.md, not fitted to the data set. Slurs are left to each operator's own list."""

_MINOR = (r"(?:(?<!\d)(?:[1-9]|1[0-7])\s*(?:-\s*)?(?:years?[\s-]*old|y/?o|yrs?(?:\s+old)?)\b"
          r"|\b(?:age[ds]?|aged)\s*(?:[1-9]|1[0-7])\b"
          r"|\b(?:[1-8](?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth)"
          r"[\s-]grader?s?\b|\bgrade\s?school(?:er)?s?\b"
          r"|\b(?:middle|elementary|junior\s+high|primary)\s*school(?:er)?s?\b|\bjunior\s+high\b"
          r"|\b(?:pre-?teens?|tweens?|toddlers?|underage|minors?|little\s+(?:girl|boy)s?|child|"
          r"children|kids?|schoolgirls?|schoolboys?|high\s+school\s+freshm[ae]n|freshm[ae]n)\b)")
_SEXUAL = (r"(?:\b(?:sex|sexy|sexual(?:ly)?|nude|nudes|naked|undress\w*|lewd|nsfw|erotic\w*|"
           r"horny|strip\w*|moan\w*|virgin\w*|seduc\w*|spicy|steamy|smut\w*|porn\w*|"
           r"lingerie|orgasm\w*|sext\w*|intimate|consummate|make\s+out|touch(?:ing|es)?|"
           r"fondl\w*|aroused|kink\w*|hook\s+up)\b)")

DEFAULT_RULES: tuple[tuple[str, str, str], ...] = (
    # R1: minors and sexual content within one sentence-ish window, either order
    ("sexual_minors", "pattern", rf"{_MINOR}[^.!?\n]{{0,80}}{_SEXUAL}"),
    ("sexual_minors", "pattern", rf"{_SEXUAL}[^.!?\n]{{0,80}}{_MINOR}"),
    ("sexual_minors", "word", "loli"),
    ("sexual_minors", "word", "lolicon"),
    ("sexual_minors", "word", "shota"),
    ("sexual_minors", "word", "shotacon"),
    ("sexual_minors", "word", "jailbait"),
    ("sexual_minors", "word", "child porn"),
    ("sexual_minors", "word", "child bride"),
    ("sexual_minors", "pattern", r"\bgroom(?:ing)?\s+(?:a\s+)?(?:kid|child|minor)s?\b"),
    # R2: the writer's own intent or method
    ("self_harm", "pattern", r"\b(?:kill|hurt|cut|burn|starv\w*|hang|punish)(?:ing)?\s+myself\b"),
    ("self_harm", "pattern", r"\bend(?:ing)?\s+(?:my\s+(?:own\s+)?life|it\s+all)\b"),
    ("self_harm", "pattern", r"(?:want|going|ready|plan(?:ning)?)[\s_]*to[\s_]*die(?:\b|(?=_))"),
    ("self_harm", "pattern", r"\bsuicid\w*"),
    ("self_harm", "pattern", r"\bself[\s-]?harm\w*"),
    ("self_harm", "pattern", r"\boverdos\w*"),
    ("self_harm", "pattern", r"\b(?:slit|cut)(?:ting)?\s+my\s+(?:wrists?|arms?|thighs?)\b"),
    ("self_harm", "pattern", r"\b(?:never|not)\s+(?:to\s+)?wake\s+up\b"),
    ("self_harm", "pattern", r"\bbetter\s+off\s+without\s+me\b"),
    # R3: explicit sexual content between adults (age-gated, not blocked, on most surfaces)
    ("sexual", "pattern", r"\bfuck(?:s|ing|ed)?\s+(?:me|her|him|you|them)\b"),
    ("sexual", "pattern", r"\b(?:blow\s?jobs?|cock|pussy|dick\s+pics?|cum(?:ming|s)?|"
                          r"cumming|onlyfans|nudes|sexting|sext|smut|porn\w*|orgy|threesome|"
                          r"masturbat\w*|fingers?\s+her|anal\s+sex|oral\s+sex)\b"),
    # R4
    ("hate", "word", "subhuman"),
    ("hate", "word", "untermensch"),
    ("hate", "word", "sieg heil"),
    ("hate", "word", "heil hitler"),
    ("hate", "word", "race mixing"),
    ("hate", "word", "great replacement"),
    ("hate", "word", "1488"),
    ("hate", "pattern", r"\bgas\s+the\s+\w+"),
    # R5: threats and abuse at a real person or another user
    ("harassment", "pattern", r"\b(?:kill|hang)\s+yourself\b|\bkys\b|\bgo\s+die\b"),
    ("harassment", "pattern", r"\bi\s+know\s+where\s+you\s+live\b"),
    ("harassment", "pattern", r"\b(?:dox+|swat)(?:x?ing|ed)?\s+(?:him|her|them|you|his|your)\b"),
    # R6: real-world weapons and attacks
    ("violent_crime", "pattern", r"\b(?:pipe|nail|car|pressure\s+cooker)\s+bombs?\b"),
    ("violent_crime", "pattern", r"\bghost\s+guns?\b|\btatp\b|\bsarin\b|\bricin\b|\banthrax\b"),
    ("violent_crime", "pattern", r"\bhow\s+(?:do\s+i|to|can\s+i|do\s+you)\s+(?:make|build|"
                                 r"synthesi[sz]e)\s+(?:a\s+|an\s+)?(?:bomb|explosive|ied|"
                                 r"grenade|silencer|napalm|nerve\s+agent)s?\b"),
    ("violent_crime", "pattern", r"\bmass\s+shooting\b"),
    # R8: links, scams
    ("spam", "pattern", r"\b(?:https?://|www\.)\S+"),
    ("spam", "pattern", r"\b[a-z0-9-]{2,}\.(?:com|net|org|biz|xyz|io|ru|top|win|shop|club|app|"
                        r"store|co|info|online|site|click|link|gg|ly|me|nz)(?:/\S*)?(?!\w)"),
    ("spam", "pattern", r"\bt\.me/\S+"),
    ("spam", "pattern", r"\bfree\s+(?:gems|robux|nitro|gift\s*cards?|followers)\b"),
    ("spam", "pattern", r"\b(?:sub4sub|follow\s+for\s+follow|like\s+for\s+like)\b"),
    ("spam", "pattern", r"\b(?:crypto|btc|bitcoin)\s+giveaway\b|\bdouble\s+your\s+(?:money|btc)\b"),
)
