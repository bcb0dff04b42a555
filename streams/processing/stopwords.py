"""Compact stopword lists for keyword extraction (streams/processing/keywords.py).

Function words, pronouns, auxiliaries and the most frequent adverbs and fillers of each language,
casefolded like the tokens they are compared with. They are deliberately short: a word missing here is
still frequent in the brand's baseline too, so significant_terms does not rank it; these lists only keep
the stored keyword arrays small and the bigrams meaningful.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DA = _words(
    """
    ad af aldrig alene alle allerede alligevel alt altid altså anden andet andre at bag bare begge ben
    blandt blev blevet blive bliver både da de dem den denne dens der deres derfor dermed desuden det
    dette dig din dine disse dit dog du efter egen egentlig eller ellers en end endnu ene eneste enhver
    ens enten er et faktisk flere fleste for fordi fra få får før først gennem gerne gik fik fået gjorde gjort gør gøre
    gået gå går har havde have haft hele heller helt hen hende hendes her hinanden hos hun hvad hvem
    hver hvert hvilke hvilken hvilket hvis hvor hvordan hvorfor hvornår ift igen igennem ik ikke ind
    inden indtil ingen intet jeg jer jeres jo kan kom kommer kun kunne lidt lige man mange med meget
    mellem men mens mere mest mig min mindre mindst mine mit mod må måske måtte ned nej nemlig nogen
    noget nogle nok nu når også om omkring op os over overhovedet på rigtig sammen selv selvom
    sgu siden sig sin sine sit skal skulle slet snart som stadig så sådan sådanne tit til trods ud
    uden under var ved vel via vil ville vi vores vor vort være været virkelig åbenbart ofte okay ok
    hej hmm dér mon sikkert sådant nogensinde enkelte øh
    """
)

NB = _words(
    """
    alle allerede alltid altså andre at av bak bare begge ble blant bli blir blitt både da de dem den
    denne der deres derfor dessuten det dette deg din dine disse ditt dog du eller ellers en enda enn
    ennå enten er et etter faktisk flere fleste for fordi fortsatt fra før først gjennom gjerne gjorde
    gjort gjør gjøre gikk fått fikk gå går ha hadde han hans har hatt hele helt henne hennes her hos hun hva hvem
    hver hverandre hvert hvilke hvilken hvilket hvis hvor hvordan hvorfor hvorfor i igjen ikke inn
    innen inntil ingen ingenting jeg jo kan kanskje kom kommer kun kunne liksom litt like man mange med
    meg mellom men mens mer mest min mindre mine mitt mot må måtte ned nei nemlig noe noen nok nå når
    ofte og også om opp oss over på rundt sammen seg selv selvom siden sin sine sitt skal skulle snart
    som så sånn til tross uten under ut var ved vel veldig verken via vil ville vi vår våre vårt være
    vært aldri egentlig dere deres okay ok hei hmm sikkert visst ganske nokså akkurat tar ta tok videre
    """
)

NN = _words(
    """
    alle allereie alltid altså andre at av bak berre begge blant blei blir blitt både då dei deim deira
    den denne der derfor dessutan det dette deg di din dine desse ditt du dykk dykkar eg ein eit ei
    eitt eigentleg eller elles enn enno er etter fekk fleire for fordi framleis frå fått før først
    gjennom gjer gjere gjera gjerne gjorde gjort ha hadde han hans har hatt heile heilt henne hennar
    her hjå ho honom i ikkje ingen ingenting inn innan ja jo kan kanskje korleis kva kvar kvart
    kvarandre kven kvifor kom kjem kunne likevel litt me meg mellom men medan meir mest mi min mine
    mitt mot mykje må måtte ned nei noko nokon nokre nok no når og også òg om opp oss over på same
    sidan sin sine si sitt sjølv sjølve skal skulle slik som så sånn til utan under ut var vart ved
    vel veldig vere vera vert vi vil ville viss vore vorte vår vårt våre difor dersom ofte aldri
    okay ok hei hmm ganske
    """
)

SV = _words(
    """
    alla allt alltid alltså andra annan annat antingen att av bakom bara bland blev bli blir blivit
    båda både de dej dem den denna deras dess dessa dessutom det detta dig din dina ditt dock dom
    du där därför då efter eftersom egentligen eller ellers en er era ert ett fast faktiskt fick flera
    flesta fortfarande från få får fått före först ganska genom gick gjorde gjort gå går gör göra ha hade
    han hans har haft hela helt henne hennes hit hon honom hos hur här i igen ingen inget inga innan
    inom inte ja jag ju kan kanske kom kommer kring kunde lite liksom man med mej mellan men mer mest
    mig min mina mindre mitt mot mycket måste ner nej ni nog nu någon något några när och också ofta
    om oss på redan riktigt runt samma sedan sen sig sin sina sitt själv själva ska skulle snart som
    så sådan sådana sån tills till trots typ under upp ut utan vad var vara varandra varför varit
    varje varken vem vi vid vilka vilken vilket vill ville väl väldigt vår våra vårt än ännu är åt
    även över aldrig okej okay ok hej hmm
    """
)

EN = _words(
    """
    about above actually after again against all almost already also although always am among an
    and another any anybody anyone anything anyway are aren't around as at away be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't done down during each either else enough even ever every everybody everyone everything few
    for from further get gets getting go goes going gonna got gotten had hadn't has hasn't have
    haven't having he he'd he'll he's hence her here here's hers herself him himself his how how's
    however i'd i'll i'm i've if in into is isn't it it'd it'll it's its itself just least less let
    let's like lot lots many may maybe me might mine more most much must my myself neither never no
    nobody none nor not nothing now of off often okay on once one only onto or other others otherwise
    ought our ours ourselves out over own per perhaps pretty quite rather really same she she'd she'll
    she's should shouldn't since so some somebody someone something sometimes somewhat soon still such
    than that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've thing things this those though through thus till to too toward towards under
    unless until up upon us very via was wasn't we we'd we'll we're we've well were weren't what
    what's whatever when where where's whether which while who who's whom whose why will with within
    without won't would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself
    yourselves etc lol hmm
    """
)

#: Per language value; Nordic texts also drop English function words (code-switching is common, and an
#: English "the" is never what a Danish incident is about).
BY_LANGUAGE: dict[str, frozenset[str]] = {
    "da": DA | EN,
    "nb": NB | EN,
    "nn": NN | NB | EN,  # Nynorsk posts mix in Bokmål forms
    "sv": SV | EN,
    "en": EN,
}
#: "other" and anything unknown: the language is in doubt, so every list applies.
ALL = DA | NB | NN | SV | EN
