/* SPDX-License-Identifier: MIT */
/* gen_captures.c - write a deterministic corpus of synthetic captures */

/*
 * The benchmark needs many captures that look like the crawler's files
 * (../shared/samples/capture-education.txt) without shipping anyone's
 * articles. Everything here is built from an invented vocabulary and a
 * seeded PRNG. Item i of the sequence is a pure function of (seed, i), so
 * `--start K` extends an existing corpus with exactly the files a larger
 * run would have written, and the same seed always gives the same bytes.
 *
 * Model: item i is either the first capture of article i, or (about 10%)
 * a re-capture of an earlier item's article: same title, 发布时间, 来源 and
 * URL, a later 快照生成时间, and sometimes one paragraph rewritten. All
 * times are local (naive) times, as the crawler writes them; the Hugo copy
 * gives them the +08:00 offset.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define GEN_NBSP "\xc2\xa0"
#define GEN_DAY INT64_C(86400)
/* 2022-01-01 00:00:00 as days since 1970-01-01. */
#define GEN_WINDOW_FIRST_DAY INT64_C(18993)
/* 2022, 2023 and 2024: publication dates spread over three years. */
#define GEN_WINDOW_DAYS 1096u
#define GEN_RECAPTURE_PERMILLE 100u
/* A re-capture looks back at most this many items in the sequence. */
#define GEN_RECAPTURE_REACH 20000u
#define GEN_EDIT_PERCENT 35u
#define GEN_BUF_SIZE (256u * 1024u)
/* Hugo renders this many newest items per category feed. */
#define GEN_HUGO_RSS_LIMIT "50"
/* Days covered by the "shard directory exists" map: 1970 to 2149. */
#define GEN_DAYMAP_SIZE 65536u

/* Independent PRNG streams, so that adding a draw to one part of the
 * model does not shift every other part. */
enum gen_stream {
    GEN_STREAM_ITEM = 1,
    GEN_STREAM_ARTICLE,
    GEN_STREAM_PARAGRAPH,
    GEN_STREAM_EDIT,
    GEN_STREAM_CAPTURE,
};

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64, seeded per (seed, stream, index).                 */

struct gen_rng {
    uint64_t state;
};

static uint64_t
rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void
rng_init(struct gen_rng *r, uint64_t seed, enum gen_stream stream, uint64_t index)
{
    r->state = rng_mix(rng_mix(seed) ^ rng_mix(((uint64_t)stream << 56) ^ index));
}

static uint64_t
rng_next(struct gen_rng *r)
{
    r->state += UINT64_C(0x9e3779b97f4a7c15);
    return rng_mix(r->state);
}

/* Uniform in [0, n); n must be at least 1. */
static uint32_t
rng_below(struct gen_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi]. */
static uint32_t
rng_range(struct gen_rng *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1);
}

static bool
rng_percent(struct gen_rng *r, uint32_t percent)
{
    return rng_below(r, 100) < percent;
}

/* Index drawn with the given weights. */
static unsigned
rng_weighted(struct gen_rng *r, const unsigned *weights, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += weights[i];
    unsigned x = rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < weights[i])
            return (unsigned)i;
        x -= weights[i];
    }
    return (unsigned)(n - 1);
}

/* ------------------------------------------------------------------ */
/* Output buffers: fixed capacity, far above the largest file written;
 * running over it is a bug in this file, caught even in release builds. */

struct gen_buf {
    char *data;
    size_t len;
    size_t cap;
};

static void
buf_init(struct gen_buf *b, size_t cap)
{
    b->data = malloc(cap);
    if (b->data == NULL) {
        fputs("gen-captures: cannot allocate memory\n", stderr);
        abort();
    }
    b->len = 0;
    b->cap = cap;
}

static void
buf_finish(struct gen_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static void
buf_overflow(void)
{
    fputs("gen-captures: internal error: buffer overflow\n", stderr);
    abort();
}

static void
buf_put(struct gen_buf *b, const char *s, size_t n)
{
    if (n > b->cap - b->len)
        buf_overflow();
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void
buf_puts(struct gen_buf *b, const char *s)
{
    buf_put(b, s, strlen(s));
}

static void
buf_putc(struct gen_buf *b, char c)
{
    if (b->len >= b->cap)
        buf_overflow();
    b->data[b->len++] = c;
}

/* Decimal, left-padded with zeros to at least `width` digits. */
static void
buf_putu(struct gen_buf *b, uint64_t v, unsigned width)
{
    char tmp[24];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width && n < sizeof(tmp))
        tmp[n++] = '0';
    while (n > 0)
        buf_putc(b, tmp[--n]);
}

/* Byte length of the first `cps` code points of UTF-8 text s[0..len). */
static size_t
utf8_prefix(const char *s, size_t len, size_t cps)
{
    /* The text is our own valid UTF-8: step by lead bytes. */
    size_t i = 0;
    while (i < len && cps > 0) {
        unsigned char c = (unsigned char)s[i];
        i += c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
        cps--;
    }
    return i < len ? i : len;
}

/* ------------------------------------------------------------------ */
/* Calendar: local times as seconds since 1970-01-01 00:00.            */

struct gen_tm {
    unsigned year, month, day, hour, minute, second;
};

static bool
is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Valid from 1970 to 2099, which is all this generator produces: inside
 * 1901-2099 every fourth year is a leap year, so four-year blocks starting
 * at 1968 all have 1461 days. */
static void
time_split(int64_t t, struct gen_tm *tm)
{
    static const unsigned month_days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
    };
    int64_t days = t / GEN_DAY;
    unsigned secs = (unsigned)(t % GEN_DAY);
    unsigned d = (unsigned)(days + 731);        /* days since 1968-01-01 */
    unsigned year = 1968 + 4 * (d / 1461);
    d %= 1461;
    if (d >= 366) {
        d -= 366;
        year += 1 + d / 365;
        d %= 365;
    }
    unsigned month = 0;
    for (;;) {
        unsigned len = month_days[month] + (month == 1 && is_leap(year) ? 1 : 0);
        if (d < len)
            break;
        d -= len;
        month++;
    }
    tm->year = year;
    tm->month = month + 1;
    tm->day = d + 1;
    tm->hour = secs / 3600;
    tm->minute = secs / 60 % 60;
    tm->second = secs % 60;
}

/* "YYYY-MM-DD HH:MM:SS", the crawler's form. */
static void
buf_put_time(struct gen_buf *b, int64_t t)
{
    struct gen_tm tm;
    time_split(t, &tm);
    buf_putu(b, tm.year, 4);
    buf_putc(b, '-');
    buf_putu(b, tm.month, 2);
    buf_putc(b, '-');
    buf_putu(b, tm.day, 2);
    buf_putc(b, ' ');
    buf_putu(b, tm.hour, 2);
    buf_putc(b, ':');
    buf_putu(b, tm.minute, 2);
    buf_putc(b, ':');
    buf_putu(b, tm.second, 2);
}

/* RFC 3339 with the +08:00 offset, for Hugo front matter. */
static void
buf_put_rfc3339(struct gen_buf *b, int64_t t)
{
    size_t at = b->len;
    buf_put_time(b, t);
    b->data[at + 10] = 'T';
    buf_puts(b, "+08:00");
}

/* A time of day in seconds, weighted towards working hours and evening,
 * on whole minutes as news sites publish. */
static int64_t
rng_time_of_day(struct gen_rng *r)
{
    static const unsigned hour_weights[24] = {
        1, 1, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 7, 7, 8, 9, 9, 8, 7, 8, 8, 6, 4, 2,
    };
    unsigned hour = rng_weighted(r, hour_weights, ARRAY_LEN(hour_weights));
    return (int64_t)hour * 3600 + (int64_t)rng_below(r, 60) * 60;
}

/* ------------------------------------------------------------------ */
/* Vocabulary. Every phrase below was written for this generator.      */

struct gen_category {
    const char *name;
    const char *slug;           /* for invented URLs */
    unsigned weight;            /* skewed: a few categories dominate */
    const char *topics[10];
};

static const struct gen_category gen_categories[] = {
    {"财经", "finance", 20, {"一季度营收", "产业基金", "中小企业融资", "消费市场",
        "外贸订单", "数字支付", "普惠金融", "招商引资", "专项债券", "营商环境"}},
    {"科技", "tech", 15, {"人工智能", "算力中心", "卫星互联网", "新型储能",
        "芯片封装", "工业软件", "低空经济", "量子通信", "数据要素", "智能制造"}},
    {"教育", "edu", 12, {"职业教育", "课后服务", "乡村教师", "毕业生就业",
        "产教融合", "研学旅行", "双语课堂", "教材建设", "学前教育", "科普教育基地"}},
    {"社会", "society", 11, {"社区治理", "养老服务", "志愿服务", "便民服务中心",
        "老旧小区改造", "公共交通", "平安建设", "邻里互助", "食品安全", "应急演练"}},
    {"体育", "sports", 9, {"全民健身", "城市马拉松", "青少年足球", "体育公园",
        "冰雪运动", "龙舟比赛", "篮球联赛", "健身步道", "围棋邀请赛", "户外徒步"}},
    {"健康", "health", 8, {"家庭医生签约", "慢病管理", "中医药服务", "医保报销",
        "义诊活动", "疫苗接种", "基层医疗", "心理健康", "远程会诊", "健康科普"}},
    {"文化", "culture", 7, {"非遗传承", "博物馆展览", "地方戏曲", "古籍修复",
        "城市书房", "民俗节庆", "文艺汇演", "传统村落保护", "书画展", "文创产品"}},
    {"汽车", "auto", 5, {"新能源汽车", "充电桩建设", "汽车下乡", "智能驾驶",
        "二手车交易", "整车出口", "换电站", "零部件配套", "车展", "以旧换新"}},
    {"房产", "house", 4, {"保障性住房", "公积金贷款", "城市更新", "商品房成交",
        "住房租赁", "物业服务", "土地出让", "装配式建筑", "厂房改造", "购房补贴"}},
    {"旅游", "travel", 4, {"乡村旅游", "夜间经济", "文旅融合", "景区预约",
        "自驾游线路", "民宿产业", "研学营地", "旅游专列", "露营地", "红色旅游"}},
    {"农业", "agri", 3, {"高标准农田", "春耕备耕", "特色果蔬", "农产品电商",
        "种业振兴", "稻渔综合种养", "冷链物流", "农机作业", "茶园管护", "庭院经济"}},
    {"环保", "eco", 2, {"河湖长制", "垃圾分类", "植树造林", "碳排放核算",
        "湿地保护", "大气污染治理", "矿山生态修复", "节能降耗", "水源地保护", "候鸟保护"}},
};

/* 来源: the outlets the capturing site copies from. */
static const char *const gen_sources[] = {
    "今日看点速递", "晨光资讯", "指尖要闻", "热点快览", "云端快报", "掌上头条",
    "早知道新闻", "资讯直通车",
};
static const unsigned gen_source_weights[] = {30, 20, 14, 10, 9, 8, 5, 4};

/* 本文转自: invented original publishers, with a slug for their URLs. */
static const char *const gen_publishers[] = {
    "东海日报", "北川晚报", "中州之声网", "西江都市报", "南岭商报", "滨江时报",
    "青岚日报", "长河新闻社", "岭南信息港", "天山资讯网", "江淮晨刊", "北国融媒",
    "云岭观察", "海峡快讯", "楚风新闻网", "巴山夜报",
};
static const char *const gen_publisher_slugs[] = {
    "donghai", "beichuan", "zhongzhou", "xijiang", "nanling", "binjiang",
    "qinglan", "changhe", "lingnan", "tianshan", "jianghuai", "beiguo",
    "yunling", "haixia", "chufeng", "bashan",
};

/* Capturing sites named in the disclaimer. */
static const char *const gen_hosts[] = {
    "td.kuaiyun.example", "snap.zixunku.example", "cache3.newsmirror.example",
};
static const unsigned gen_host_weights[] = {80, 15, 5};

static const char *const gen_places[] = {
    "青岚市", "望川县", "白鹭洲", "云溪镇", "松台区", "南湖新区", "金沙县", "石梁镇",
    "临江市", "东陵区", "北原县", "柳塘村", "枫桥镇", "凤鸣区", "鹿岭县", "清河湾",
    "长亭街道", "月湖区", "桃源乡", "沙洲市", "岚溪镇", "雁归县", "梧桐新城", "西屏山区",
    "栖凤湾", "晴川区", "灵泉镇", "澄川县", "丰禾乡", "苇塘村", "碧水湾", "霁月区",
    "翠微街道", "汀兰县", "杉坪镇", "梨花坞", "横塘区", "砚池湾", "宁和县", "鹤鸣山镇",
};

/* No 市/县/区 prefix: templates put a place in front ({P}{O}). */
static const char *const gen_orgs[] = {
    "教育局", "人民政府", "融媒体中心", "发展和改革局", "文联", "文化和旅游局",
    "农业农村局", "生态环境局", "卫生健康局", "体育局", "住房和城乡建设局",
    "商务局", "科技局", "总工会", "团委", "妇联", "人社局", "市场监管局",
    "交通运输局", "社区服务中心", "工商联", "供销社", "科协", "红十字会",
    "林业局", "数据局", "应急管理局", "水利局", "图书馆", "开发区管委会",
};

static const char *const gen_venues[] = {
    "产业园", "生产车间", "田间地头", "社区服务中心", "展厅", "教室", "文化礼堂",
    "实训基地", "仓库", "指挥中心", "直播间", "体育场", "卫生院", "村委会", "博物馆",
    "工地", "码头", "孵化器",
};

static const char *const gen_names[] = {
    "林晓川", "周雨桐", "陈默然", "王思远", "刘青禾", "赵一帆", "孙若溪", "何子墨",
    "郭蓝心", "许安然", "宋亦舟", "韩知秋", "唐小满", "沈听澜", "顾北辰", "陆云舒",
    "叶青梧", "程远航", "苏半夏", "江南星", "杜若衡", "白露晞", "方知行", "温以宁",
};

static const char *const gen_roles[] = {
    "负责人", "党委书记", "局长", "副局长", "校长", "院长", "项目经理", "村党支部书记",
    "社区主任", "总经理", "理事长", "首席工程师", "志愿者", "参赛选手", "市民", "游客",
    "家长代表", "种植大户", "一线员工", "驻村第一书记",
};

static const char *const gen_slogans[] = {
    "山海同行", "百校结对", "千村焕新", "一网通办", "青苗护航", "绿水长流", "数智赋能",
    "巧手工坊", "家门口就业", "邻里守望", "强链补链", "向新而行", "春风送岗", "银龄课堂",
    "书香满城", "活力街区",
};

/* Sentence templates and the lists they draw from. In a template, {X}
 * is replaced by a draw from the list or value that code X names (see
 * gen_lists and expand_code); list entries may hold codes themselves. */
static const char *const gen_sentences[] = {
    "{A},{P}{O}围绕{T}开展专项行动,{C}。",
    "据了解,{P}今年以来已累计实施{T}相关项目{#}个,{C}。",
    "{P}{O}{J}介绍,{T}工作{R},{C}。",
    "截至{M}月底,{P}{T}已覆盖{#}{U},同比增长{%}%。",
    "下一步,{O}将继续{V}{T},{C}。",
    "“{Q}”{J}{W}说。",
    "在{p}的{I}里,{W}正忙着{D},{E}。",
    "{P}把{T}作为{K}的重要抓手,{C}。",
    "活动现场,来自{p}、{p}等地的{#}余名代表围绕{T}{L}。",
    "{O}相关负责人表示,将以此次{G}为契机,{V}{T},{C}。",
    "近年来,{P}坚持{H},推动{T}和{t}协同发展,{C}。",
    "记者从{O}获悉,{M}月以来,{P}共{Y}{#}{U},{E}。",
    "与此同时,{P}还{V}{t},{C}。",
    "“{Q}”在{W}看来,{T}的关键在于{Z}。",
    "{W}告诉记者:“{q}”",
    "为进一步{V}{T},{P}{O}联合{o}推出{~}项举措,涵盖{t}、{t}和{t}等方面。",
    "数据显示,{P}{T}{X},{%}%的受访群众表示满意。",
    "按照计划,{P}将在{M}月前完成{T}{S},{C}。",
    "{B},{W}对此深有感触。",
    "{P}探索建立“{s}”工作机制,{C}。",
    "{A},{o}在{p}举行{T}{G},{~}家单位现场{L}。",
    "{P}还将{T}纳入年度重点工作清单,明确{~}项具体任务和完成时限。",
    "走进{P}的{I},{E}。{W}说,{q}",
    "{O}{J}{W}坦言,{T}起步时也遇到过不少困难,{Z}是破局的关键。",
};

static const char *const gen_openers[] = {
    "近日", "日前", "今年以来", "本月初", "连日来", "上周末", "入夏以来", "开春以来",
    "近年来", "当天上午", "当天下午", "{M}月中旬", "国庆假期期间", "春节前夕",
};

static const char *const gen_closings[] = {
    "为当地高质量发展注入新动能", "让群众有了实实在在的获得感", "进一步激发了市场主体活力",
    "受到广大群众的普遍欢迎", "形成了可复制可推广的经验", "推动各项工作落地见效",
    "为下一步工作打下坚实基础", "切实提升了服务效率", "带动周边群众增收致富",
    "营造了良好的社会氛围", "吸引了众多市民前来参与", "有效破解了发展中的难点堵点",
    "实现了经济效益和社会效益双提升", "不断擦亮“{s}”特色品牌", "让更多人共享发展成果",
    "为{t}积累了宝贵经验",
};

static const char *const gen_results[] = {
    "取得阶段性成效", "稳步推进", "呈现良好势头", "实现新的突破", "走在全省前列",
    "跑出加速度", "逐步走上正轨", "迈上新台阶",
};

static const char *const gen_verbs[] = {
    "深入推进", "持续优化", "全面提升", "加快推进", "统筹推进", "不断完善", "着力做好",
    "用心做实", "大力发展", "积极探索",
};

static const char *const gen_units[] = {
    "个村(社区)", "家企业", "所学校", "个项目", "户家庭", "万人次", "个站点", "亩",
};

static const char *const gen_quotes[] = {
    "这项工作关系到每一位群众的切身利益", "我们要把好事办好、把实事办实",
    "只有坚持下去,才能看到真正的成效", "希望更多人关注、参与进来",
    "以前想都不敢想,现在家门口就能办成", "每一个环节都要经得起检验",
    "大家心往一处想、劲往一处使", "这是一场需要耐心的长跑", "群众满意是我们最大的追求",
    "既要算经济账,也要算长远账",
};

static const char *const gen_long_quotes[] = {
    "现在办事方便多了,少跑了不少冤枉路。", "孩子们特别喜欢这样的课,回家还会讲给我们听。",
    "今年的收成比去年好,心里踏实多了。", "以前我们只能等订单,现在主动去找市场。",
    "设备换了新的,效率提高了一大截,大家干劲更足了。",
    "一开始心里也没底,试了一年,账算下来确实划算。",
    "这些年变化太大了,走在路上都觉得敞亮。",
};

static const char *const gen_doings[] = {
    "调试新到的设备", "整理参展资料", "给学员讲解操作要点", "核对当天的订单",
    "检查幼苗长势", "布置活动场地", "录入服务数据", "打包发往外地的货物",
};

static const char *const gen_scenes[] = {
    "脸上洋溢着笑容", "处处是一派繁忙景象", "现场气氛热烈", "不时有人驻足询问",
    "一旁的工作人员耐心解答", "订单已经排到了下个月",
};

static const char *const gen_goals[] = {
    "推动高质量发展", "保障和改善民生", "优化营商环境", "建设美丽乡村", "提升城市品质",
    "促进共同富裕",
};

static const char *const gen_discussions[] = {
    "展开深入交流", "分享经验做法", "进行现场观摩", "签订合作协议", "开展专题研讨",
};

static const char *const gen_events[] = {
    "活动", "会议", "签约仪式", "调研", "培训", "竞赛", "推介会",
};

static const char *const gen_principles[] = {
    "规划引领、项目带动", "政府引导、市场运作", "因地制宜、分类施策", "补短板、强弱项",
    "点上突破、面上推开",
};

static const char *const gen_deeds[] = {
    "新建", "改造提升", "培训", "服务", "走访", "帮扶",
};

static const char *const gen_keys[] = {
    "持之以恒", "找准群众需求", "人才和机制", "把服务做到细处", "打通最后一公里",
};

static const char *const gen_stats[] = {
    "相关指标持续向好", "群众满意度明显提升", "服务事项办理时长缩短近一半",
};

static const char *const gen_milestones[] = {
    "全覆盖", "提质扩容", "示范创建", "验收评估", "数字化改造",
};

static const char *const gen_contrasts[] = {
    "过去这里还是一片荒地,如今已成了远近闻名的打卡点",
    "几年前办一件事要跑好几个窗口,现在手机上就能办",
    "以前产品只在本地卖,现在通过网络卖到了全国",
    "从前一到雨天路就没法走,如今硬化路通到了家门口",
};

static const char *const gen_title_forms[] = {
    "{P}{T}{a}:{1} {2}",
    "“{s}”{n}发布:{1} {2}",
    "{P}:{T}{R}",
    "{P}{O}召开{T}推进会",
    "{~}个{T}项目在{P}集中签约",
    "{T}“{s}”模式落地{P}",
    "{W}:在{I}里{3}",
    "{P}举办{T}主题{G} {2}",
    "聚焦{T} {P}{1}",
    "{P}{T}{R} {2}",
};

static const char *const gen_title_moves[] = {
    "取得新进展", "按下快进键", "迎来新机遇", "再上新台阶", "交出亮眼答卷",
};

static const char *const gen_title_heads[] = {
    "多方力量携手加入", "政企校合力破题", "群众办事更便捷", "老手艺焕发新活力",
    "小切口撬动大民生", "数字化赋能见实效",
};

static const char *const gen_title_tails[] = {
    "助推{t}提质增效", "擦亮“{s}”品牌", "绘就发展新图景", "让群众得实惠",
    "为{t}注入新动能",
};

static const char *const gen_title_nouns[] = {
    "倡议", "行动方案", "合作联盟", "实施细则", "试点成果",
};

static const char *const gen_title_duties[] = {
    "书写平凡坚守", "把小事做到极致", "守护一方安宁", "十年如一日",
};

static const char *const gen_datelines[] = {
    "{v}{P}{d}讯 (记者{r})", "{v}{P}{d}电 (记者{r})", "{v}讯 (记者{r} 通讯员{W})",
};

static const char *const gen_credits[] = {
    "活动现场。{O}供图", "图为{T}现场。{W}摄", "资料图。{v}记者{W}摄", "现场图片。主办方供图",
    "图为{P}一角。受访者供图",
};

struct gen_list {
    const char *const *items;
    size_t n;
};

#define GEN_LIST(a) {(a), ARRAY_LEN(a)}

/* Template codes that draw from a list. The other codes are fixed by the
 * scene or are numbers; gen_value_codes lists them (see expand_code). */
static const struct gen_list gen_lists[128] = {
    ['.'] = GEN_LIST(gen_sentences),
    ['^'] = GEN_LIST(gen_title_forms),
    ['&'] = GEN_LIST(gen_datelines),
    ['@'] = GEN_LIST(gen_credits),
    ['A'] = GEN_LIST(gen_openers),
    ['B'] = GEN_LIST(gen_contrasts),
    ['C'] = GEN_LIST(gen_closings),
    ['D'] = GEN_LIST(gen_doings),
    ['E'] = GEN_LIST(gen_scenes),
    ['G'] = GEN_LIST(gen_events),
    ['H'] = GEN_LIST(gen_principles),
    ['I'] = GEN_LIST(gen_venues),
    ['J'] = GEN_LIST(gen_roles),
    ['K'] = GEN_LIST(gen_goals),
    ['L'] = GEN_LIST(gen_discussions),
    ['Q'] = GEN_LIST(gen_quotes),
    ['R'] = GEN_LIST(gen_results),
    ['S'] = GEN_LIST(gen_milestones),
    ['U'] = GEN_LIST(gen_units),
    ['V'] = GEN_LIST(gen_verbs),
    ['W'] = GEN_LIST(gen_names),
    ['X'] = GEN_LIST(gen_stats),
    ['Y'] = GEN_LIST(gen_deeds),
    ['Z'] = GEN_LIST(gen_keys),
    ['a'] = GEN_LIST(gen_title_moves),
    ['n'] = GEN_LIST(gen_title_nouns),
    ['o'] = GEN_LIST(gen_orgs),
    ['p'] = GEN_LIST(gen_places),
    ['q'] = GEN_LIST(gen_long_quotes),
    ['s'] = GEN_LIST(gen_slogans),
    ['1'] = GEN_LIST(gen_title_heads),
    ['2'] = GEN_LIST(gen_title_tails),
    ['3'] = GEN_LIST(gen_title_duties),
};

static const char gen_value_codes[] = "POTvrdt#~M%";

/* ------------------------------------------------------------------ */
/* Template expansion.                                                 */

/*
 * Templates are compiled once at start-up, so that expanding one copies
 * literal runs of known length instead of scanning for braces (expansion
 * is where the generator spends its CPU time), and so that a template
 * naming an unknown code fails at once, in every build. A compiled template is a string of
 * ops: a byte n in 1..255 followed by n literal bytes, or 0 followed by a
 * code byte; 0 0 ends it.
 */
struct gen_clist {
    const unsigned char **items;
    uint32_t n;
};

struct gen_vocab {
    struct gen_clist lists[128];
    const unsigned char **items;        /* storage behind every lists[c].items */
    unsigned char *ops;                 /* storage behind every compiled template */
};

/* What a piece of text is about: the value codes {P} {O} {T} {v} {r} {d}. */
struct gen_scene {
    const struct gen_vocab *vocab;
    unsigned category;
    const char *place;
    const char *org;
    const char *topic;
    const char *publisher;
    const char *reporter;
    unsigned month, day;        /* dateline */
};

static void expand_list(const struct gen_scene *sc, struct gen_rng *r, struct gen_buf *b,
                        char code, unsigned depth);

static bool
code_known(unsigned char c)
{
    return c != '\0' && c < 128 && (gen_lists[c].n > 0 || strchr(gen_value_codes, c) != NULL);
}

/* Compiles tpl to ops at out; returns the bytes written. A malformed
 * template is a bug in this file: report it and abort. */
static size_t
vocab_compile(const char *tpl, unsigned char *out)
{
    unsigned char *o = out;
    const char *p = tpl;
    while (*p != '\0') {
        if (*p == '{') {
            if (!code_known((unsigned char)p[1]) || p[2] != '}') {
                fprintf(stderr, "gen-captures: bad template: %s\n", tpl);
                abort();
            }
            *o++ = 0;
            *o++ = (unsigned char)p[1];
            p += 3;
            continue;
        }
        size_t n = 0;
        while (p[n] != '\0' && p[n] != '{' && n < 255)
            n++;
        *o++ = (unsigned char)n;
        memcpy(o, p, n);
        o += n;
        p += n;
    }
    *o++ = 0;
    *o++ = 0;
    return (size_t)(o - out);
}

static void
vocab_init(struct gen_vocab *v)
{
    size_t n_items = 0, n_bytes = 0;
    for (size_t c = 0; c < ARRAY_LEN(gen_lists); c++) {
        n_items += gen_lists[c].n;
        for (size_t i = 0; i < gen_lists[c].n; i++)
            n_bytes += 2 * strlen(gen_lists[c].items[i]) + 4;  /* worst case */
    }
    v->items = malloc(n_items * sizeof(*v->items));
    v->ops = malloc(n_bytes);
    if (v->items == NULL || v->ops == NULL) {
        fputs("gen-captures: cannot allocate memory\n", stderr);
        abort();
    }
    size_t item = 0, at = 0;
    for (size_t c = 0; c < ARRAY_LEN(gen_lists); c++) {
        v->lists[c].items = v->items + item;
        v->lists[c].n = (uint32_t)gen_lists[c].n;
        for (size_t i = 0; i < gen_lists[c].n; i++) {
            v->items[item++] = v->ops + at;
            at += vocab_compile(gen_lists[c].items[i], v->ops + at);
        }
    }
}

static void
vocab_finish(struct gen_vocab *v)
{
    free(v->items);
    free(v->ops);
    v->items = NULL;
    v->ops = NULL;
}

static void
expand_code(const struct gen_scene *sc, struct gen_rng *r, struct gen_buf *b, char code,
            unsigned depth)
{
    const struct gen_category *cat = &gen_categories[sc->category];

    switch (code) {
    case 'P': buf_puts(b, sc->place); return;
    case 'O': buf_puts(b, sc->org); return;
    case 'T': buf_puts(b, sc->topic); return;
    case 'v': buf_puts(b, sc->publisher); return;
    case 'r': buf_puts(b, sc->reporter); return;
    case 't': buf_puts(b, cat->topics[rng_below(r, ARRAY_LEN(cat->topics))]); return;
    case 'd':
        buf_putu(b, sc->month, 0);
        buf_puts(b, "月");
        buf_putu(b, sc->day, 0);
        buf_puts(b, "日");
        return;
    case '#':                   /* a count, mostly small */
        buf_putu(b, rng_percent(r, 70) ? rng_range(r, 2, 60) : rng_range(r, 61, 900), 0);
        return;
    case '~':
        buf_putu(b, rng_range(r, 2, 12), 0);
        return;
    case 'M':
        buf_putu(b, rng_range(r, 1, 12), 0);
        return;
    case '%':
        buf_putu(b, rng_range(r, 1, 45), 0);
        buf_putc(b, '.');
        buf_putu(b, rng_below(r, 10), 0);
        return;
    default:
        expand_list(sc, r, b, code, depth + 1);
        return;
    }
}

/* Appends one entry of the list that `code` names, expanded. */
static void
expand_list(const struct gen_scene *sc, struct gen_rng *r, struct gen_buf *b, char code,
            unsigned depth)
{
    const struct gen_clist *list = &sc->vocab->lists[(unsigned char)code & 0x7f];

    assert(depth < 4 && list->n > 0);
    const unsigned char *op = list->items[rng_below(r, list->n)];
    for (;;) {
        unsigned n = *op++;
        if (n > 0) {
            buf_put(b, (const char *)op, n);
            op += n;
            continue;
        }
        char c = (char)*op++;
        if (c == '\0')
            return;
        expand_code(sc, r, b, c, depth);
    }
}

/* A scene about a random place and topic of one category, for the
 * related and more-in-category lists. */
static void
scene_random(struct gen_scene *sc, const struct gen_vocab *vocab, struct gen_rng *r,
             unsigned category)
{
    const struct gen_category *cat = &gen_categories[category];
    sc->vocab = vocab;
    sc->category = category;
    sc->place = gen_places[rng_below(r, ARRAY_LEN(gen_places))];
    sc->org = gen_orgs[rng_below(r, ARRAY_LEN(gen_orgs))];
    sc->topic = cat->topics[rng_below(r, ARRAY_LEN(cat->topics))];
    sc->publisher = gen_publishers[rng_below(r, ARRAY_LEN(gen_publishers))];
    sc->reporter = gen_names[rng_below(r, ARRAY_LEN(gen_names))];
    sc->month = rng_range(r, 1, 12);
    sc->day = rng_range(r, 1, 28);
}

/* ------------------------------------------------------------------ */
/* Articles and items.                                                 */

struct gen_article {
    uint64_t index;             /* item index of its first capture */
    uint64_t key;               /* seeds the paragraph streams */
    struct gen_scene scene;
    int64_t published;
    int64_t first_captured;
    unsigned source, publisher, host;
    bool has_url;
    unsigned n_related, n_listing;
    size_t body_budget;         /* bytes of body paragraphs to aim for */
    unsigned image_after;       /* body paragraph the photo follows; 0 = none */
    unsigned cut_at;            /* crawler's paragraph cut in code points; 0 = none */
    char title[1024];
    size_t title_len;
};

struct gen_item {
    uint64_t index;
    uint64_t article;           /* item index of the article's first capture */
    int64_t captured;
    bool recapture;
    unsigned edit;              /* 0, or which body paragraph (1-based, mod) was rewritten */
};

struct gen_ctx {
    uint64_t seed;
    int out_fd;
    const char *out_path;
    int posts_fd;               /* -1 without --hugo */
    char posts_path[4096];      /* for messages */
    unsigned char *daymap;      /* shard directories already made */
    int64_t *day_newest;        /* per day: the newest capture in it (UTC seconds) */
    struct gen_vocab vocab;
    struct gen_buf file, para;
};

/* The publication and first-capture times of article a. These are the
 * first draws of the article stream, so item_resolve can get them without
 * building the whole article. */
static void
article_times(uint64_t seed, uint64_t a, struct gen_rng *r, int64_t *published,
              int64_t *captured)
{
    rng_init(r, seed, GEN_STREAM_ARTICLE, a);
    /* Days follow a golden-ratio (Weyl) sequence, so any prefix of the
     * corpus, 1k or 100k, covers the whole window evenly. */
    uint64_t frac = (a + 1) * UINT64_C(0x9e3779b97f4a7c15);
    int64_t day = GEN_WINDOW_FIRST_DAY + (int64_t)(((frac >> 32) * GEN_WINDOW_DAYS) >> 32);
    *published = day * GEN_DAY + rng_time_of_day(r);
    int64_t delay;
    if (rng_percent(r, 85))
        delay = rng_range(r, 5 * 60, 8 * 3600);
    else
        delay = rng_range(r, 8 * 3600, 4 * 86400);
    *captured = *published + delay;
}

static void
item_resolve(uint64_t seed, uint64_t i, struct gen_item *it)
{
    struct gen_rng r;
    int64_t later = 0;
    uint64_t cur = i;

    it->index = i;
    it->recapture = false;
    it->edit = 0;
    for (;;) {
        rng_init(&r, seed, GEN_STREAM_ITEM, cur);
        bool recapture = cur > 0 && rng_below(&r, 1000) < GEN_RECAPTURE_PERMILLE;
        if (!recapture)
            break;
        uint32_t reach = cur < GEN_RECAPTURE_REACH ? (uint32_t)cur : GEN_RECAPTURE_REACH;
        uint64_t back = 1 + rng_below(&r, reach);
        later += rng_range(&r, 3600, 90 * 86400);
        if (cur == i) {
            it->recapture = true;
            if (rng_percent(&r, GEN_EDIT_PERCENT))
                it->edit = rng_range(&r, 1, 64);
        }
        cur -= back;
    }
    int64_t published, captured;
    article_times(seed, cur, &r, &published, &captured);
    it->article = cur;
    it->captured = captured + later;
}

static void
article_load(uint64_t seed, const struct gen_vocab *vocab, uint64_t a, struct gen_article *art)
{
    struct gen_rng r;
    struct gen_tm tm;

    article_times(seed, a, &r, &art->published, &art->first_captured);
    art->index = a;
    art->key = rng_next(&r);

    unsigned weights[ARRAY_LEN(gen_categories)];
    for (size_t c = 0; c < ARRAY_LEN(gen_categories); c++)
        weights[c] = gen_categories[c].weight;
    unsigned category = rng_weighted(&r, weights, ARRAY_LEN(weights));
    const struct gen_category *cat = &gen_categories[category];

    art->source = rng_weighted(&r, gen_source_weights, ARRAY_LEN(gen_source_weights));
    art->publisher = rng_below(&r, ARRAY_LEN(gen_publishers));
    art->host = rng_weighted(&r, gen_host_weights, ARRAY_LEN(gen_host_weights));
    const char *reporter = gen_names[rng_below(&r, ARRAY_LEN(gen_names))];
    art->has_url = rng_percent(&r, 50);

    time_split(art->published, &tm);
    art->scene.vocab = vocab;
    art->scene.category = category;
    art->scene.place = gen_places[rng_below(&r, ARRAY_LEN(gen_places))];
    art->scene.org = gen_orgs[rng_below(&r, ARRAY_LEN(gen_orgs))];
    art->scene.topic = cat->topics[rng_below(&r, ARRAY_LEN(cat->topics))];
    art->scene.publisher = gen_publishers[art->publisher];
    art->scene.reporter = reporter;
    art->scene.month = tm.month;
    art->scene.day = tm.day;

    /* Sizes: aim the whole file at 5.5-13.6 KB; the body ends with the
     * paragraph that crosses its budget, which lands files in 5-15 KB.
     * Small files get short lists. The overhead is the measured average
     * of header + footer, one related group and one listing entry. */
    size_t target = rng_range(&r, 5500, 13600);
    if (target < 8500) {
        art->n_related = rng_range(&r, 3, 6);
        art->n_listing = rng_range(&r, 5, 9);
    } else {
        art->n_related = rng_range(&r, 8, 11);
        art->n_listing = rng_range(&r, 12, 18);
    }
    size_t overhead = 600 + art->n_related * 281 + art->n_listing * 233;
    art->body_budget = target > overhead + 600 ? target - overhead : 600;
    art->image_after = rng_percent(&r, 85) ? rng_range(&r, 1, 2) : 0;
    art->cut_at = rng_percent(&r, 30) ? rng_range(&r, 120, 160) : 0;

    struct gen_buf title = {art->title, 0, sizeof(art->title)};
    expand_list(&art->scene, &r, &title, '^', 0);
    art->title_len = title.len;
}

/* Body paragraph p of the article (p = 0 is the dateline paragraph), or
 * the rewritten version a re-capture shows when `edited`. */
static void
paragraph(const struct gen_article *art, unsigned p, bool edited, struct gen_buf *out)
{
    struct gen_rng r;
    rng_init(&r, art->key, edited ? GEN_STREAM_EDIT : GEN_STREAM_PARAGRAPH, p);

    size_t start = out->len;
    unsigned sentences;
    if (p == 0) {
        expand_list(&art->scene, &r, out, '&', 0);
        sentences = rng_range(&r, 2, 4);
    } else if (rng_percent(&r, 15)) {
        sentences = 1;
    } else {
        sentences = rng_range(&r, 2, 7);
    }
    /* The crawler cuts long paragraphs at a fixed length, mid-sentence;
     * no need to write much past the cut. */
    size_t stop = art->cut_at > 0 && p > 0 ? 3 * art->cut_at : SIZE_MAX;
    for (unsigned s = 0; s < sentences && out->len - start < stop; s++)
        expand_list(&art->scene, &r, out, '.', 0);
    if (art->cut_at > 0 && p > 0) {
        size_t keep = utf8_prefix(out->data + start, out->len - start, art->cut_at);
        out->len = start + keep;
    }
}

/* Replaces out[from..to) with text[0..n). */
static void
buf_splice(struct gen_buf *out, size_t from, size_t to, const char *text, size_t n)
{
    assert(from <= to && to <= out->len);
    if (n > to - from && n - (to - from) > out->cap - out->len)
        buf_overflow();
    memmove(out->data + from + n, out->data + to, out->len - to);
    memcpy(out->data + from, text, n);
    out->len = out->len - (to - from) + n;
}

#define GEN_MAX_PARAGRAPHS 40

/* The body as paragraphs separated by blank lines. With `photo`, the
 * image's alt text (the title) and its credit follow paragraph
 * image_after, as in the crawler's files. The paragraph count depends on
 * the original text only, so an edit never changes it. */
static void
body_write(struct gen_ctx *ctx, const struct gen_article *art, const struct gen_item *it,
           bool photo, struct gen_buf *out)
{
    size_t begin[GEN_MAX_PARAGRAPHS], end[GEN_MAX_PARAGRAPHS];
    size_t produced = 0;
    unsigned n = 0;

    while (n < 2 || (produced < art->body_budget && n < GEN_MAX_PARAGRAPHS)) {
        if (n > 0)
            buf_puts(out, "\n\n");
        begin[n] = out->len;
        paragraph(art, n, false, out);
        end[n] = out->len;
        produced += end[n] - begin[n] + 2;
        n++;
        if (photo && art->image_after == n) {
            struct gen_rng r;
            rng_init(&r, art->key, GEN_STREAM_PARAGRAPH, 1000);
            buf_puts(out, "\n\n");
            buf_put(out, art->title, art->title_len);
            buf_puts(out, "\n\n");
            expand_list(&art->scene, &r, out, '@', 0);
        }
    }
    if (it->edit > 0) {
        unsigned k = 1 + (it->edit - 1) % (n - 1);
        ctx->para.len = 0;
        paragraph(art, k, true, &ctx->para);
        buf_splice(out, begin[k], end[k], ctx->para.data, ctx->para.len);
    }
}

/* Sentences about the scene, cut after `cps` code points as the
 * capturing site cuts its snippets. The text is mostly 3-byte CJK, so
 * 3 * cps bytes are always enough to cut from. */
static void
snippet_write(const struct gen_scene *sc, struct gen_rng *r, size_t cps, struct gen_buf *out)
{
    size_t start = out->len;
    while (out->len - start < 3 * cps)
        expand_list(sc, r, out, '.', 0);
    out->len = start + utf8_prefix(out->data + start, out->len - start, cps);
}

/* Related list: groups of one snippet line, or title + snippet, each
 * closed by a timestamp line. */
static void
related_write(const struct gen_article *art, struct gen_rng *r, struct gen_buf *out)
{
    for (unsigned g = 0; g < art->n_related; g++) {
        struct gen_scene sc;
        unsigned category = rng_percent(r, 80) ? art->scene.category
                          : rng_below(r, ARRAY_LEN(gen_categories));
        scene_random(&sc, art->scene.vocab, r, category);
        if (rng_percent(r, 35)) {
            expand_list(&sc, r, out, '^', 0);
            buf_putc(out, '\n');
        }
        bool reprint = rng_percent(r, 20);
        buf_puts(out, reprint ? "本文转自:" : "...");
        if (reprint)
            buf_puts(out, sc.publisher);
        size_t cps = rng_range(r, 78, 88) - (reprint ? 8 : 0);
        snippet_write(&sc, r, cps, out);
        buf_putc(out, '\n');
        int64_t offset = (int64_t)rng_range(r, 0, 240 * 86400) - 200 * 86400;
        int64_t day = (art->published + offset) / GEN_DAY;
        buf_put_time(out, day * GEN_DAY + rng_time_of_day(r));
        buf_putc(out, '\n');
    }
}

/* 更多关于X的资讯: title, summary and timestamp per entry, newest first,
 * as the capturing site's category page looked at capture time. No
 * newline after the last line, like the crawler's files. */
static void
listing_write(const struct gen_article *art, const struct gen_item *it, struct gen_rng *r,
              struct gen_buf *out)
{
    const char *category = gen_categories[art->scene.category].name;
    int64_t t = (it->captured - rng_range(r, 600, 6 * 3600)) / 60 * 60;

    buf_puts(out, "更多关于");
    buf_puts(out, category);
    buf_puts(out, "的资讯:");
    for (unsigned e = 0; e < art->n_listing; e++) {
        struct gen_scene sc;
        scene_random(&sc, art->scene.vocab, r, art->scene.category);
        buf_putc(out, '\n');
        expand_list(&sc, r, out, '^', 0);
        buf_putc(out, '\n');
        if (rng_percent(r, 40)) {
            buf_puts(out, sc.publisher);
            buf_puts(out, "讯 ");
        }
        snippet_write(&sc, r, rng_range(r, 30, 70), out);
        buf_putc(out, '\n');
        buf_put_time(out, t);
        if (rng_percent(r, 60))
            t -= (int64_t)rng_range(r, 1, 40) * 1800;
    }
}

static void
url_write(const struct gen_article *art, struct gen_buf *out)
{
    struct gen_tm tm;
    time_split(art->published, &tm);
    buf_puts(out, "https://www.");
    buf_puts(out, gen_publisher_slugs[art->publisher]);
    buf_puts(out, "-news.example/");
    buf_puts(out, gen_categories[art->scene.category].slug);
    buf_putc(out, '/');
    buf_putu(out, tm.year, 4);
    buf_putu(out, tm.month, 2);
    buf_putc(out, '/');
    buf_putu(out, tm.day, 2);
    buf_putu(out, art->index, 7);
    buf_puts(out, ".html");
}

/* One capture file, in the layout of the sample. */
static void
capture_write(struct gen_ctx *ctx, const struct gen_article *art, const struct gen_item *it,
              struct gen_buf *out)
{
    const char *category = gen_categories[art->scene.category].name;
    struct gen_rng r;
    rng_init(&r, ctx->seed, GEN_STREAM_CAPTURE, it->index);

    buf_puts(out, "• 我的订阅\n  • ");
    buf_puts(out, category);
    buf_puts(out, "\n\n");
    buf_put(out, art->title, art->title_len);
    buf_puts(out, "\n\n类别:");
    buf_puts(out, category);
    buf_puts(out, GEN_NBSP "发布时间:");
    buf_put_time(out, art->published);
    buf_puts(out, GEN_NBSP "来源:");
    buf_puts(out, gen_sources[art->source]);
    buf_puts(out, "\n\n本文转自:");
    buf_puts(out, art->scene.publisher);
    buf_puts(out, "\n\n");
    body_write(ctx, art, it, true, out);
    buf_puts(out, "\n\n以上内容为资讯信息快照,由");
    buf_puts(out, gen_hosts[art->host]);
    buf_puts(out, "爬虫进行采集并收录,本站未对信息做任何修改,信息内容不代表本站立场。\n\n");
    buf_puts(out, "快照生成时间:");
    buf_put_time(out, it->captured);
    buf_puts(out, "\n\n本站信息快照查询为非营利公共服务,如有侵权请联系我们进行删除。\n\n");
    buf_puts(out, "信息原文地址:");
    if (art->has_url)
        url_write(art, out);
    buf_puts(out, "\n\n");
    related_write(art, &r, out);
    listing_write(art, it, &r, out);
}

/* TOML basic string: escape what TOML requires. */
static void
toml_string(struct gen_buf *out, const char *s, size_t n)
{
    buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            buf_putc(out, '\\');
        buf_putc(out, s[i]);
    }
    buf_putc(out, '"');
}

/* The article as Hugo content: front matter and the body without the
 * photo's alt text and credit (snapfeed drops those too). */
static void
hugo_write(struct gen_ctx *ctx, const struct gen_article *art, const struct gen_item *it,
           struct gen_buf *out)
{
    buf_puts(out, "+++\ntitle = ");
    toml_string(out, art->title, art->title_len);
    buf_puts(out, "\ndate = ");
    buf_put_rfc3339(out, art->published);
    buf_puts(out, "\ncategories = [");
    toml_string(out, gen_categories[art->scene.category].name,
                strlen(gen_categories[art->scene.category].name));
    buf_puts(out, "]\n+++\n\n");
    body_write(ctx, art, it, false, out);
    buf_putc(out, '\n');
}

/* ------------------------------------------------------------------ */
/* Files.                                                              */

static bool
write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Writes data[0..len) to dir/rel (dirfd is dir). Reports failure on stderr. */
static bool
file_put(int dirfd, const char *dir, const char *rel, const char *data, size_t len)
{
    int fd = openat(dirfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "gen-captures: %s/%s: cannot create: %s\n", dir, rel, strerror(errno));
        return false;
    }
    bool ok = write_all(fd, data, len);
    int saved = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok)
        fprintf(stderr, "gen-captures: %s/%s: write failed: %s\n", dir, rel, strerror(saved));
    return ok;
}

static bool
mkdir_at(int dirfd, const char *dir, const char *rel)
{
    if (mkdirat(dirfd, rel, 0755) == 0 || errno == EEXIST)
        return true;
    fprintf(stderr, "gen-captures: %s/%s: cannot create directory: %s\n", dir, rel,
            strerror(errno));
    return false;
}

/* mkdir -p, then open the directory. Returns -1 after reporting. */
static int
dir_open_p(const char *path)
{
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        fprintf(stderr, "gen-captures: %s: bad directory name\n", path);
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char saved = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
            fprintf(stderr, "gen-captures: %s: cannot create directory: %s\n", tmp,
                    strerror(errno));
            return -1;
        }
        tmp[i] = saved;
    }
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        fprintf(stderr, "gen-captures: %s: %s\n", path, strerror(errno));
    return fd;
}

/* The crawler's clock: capture times are local (+08:00), mtimes UTC. */
static int64_t
capture_utc(const struct gen_item *it)
{
    return it->captured - 8 * 3600;
}

/* Dates dir/rel (relative to dirfd) at t, as the crawler that wrote it
 * then would have left it. */
static bool
date_path(int dirfd, const char *dir, const char *rel, int64_t t)
{
    struct timespec ts[2] = {{.tv_sec = (time_t)t}, {.tv_sec = (time_t)t}};
    if (utimensat(dirfd, rel, ts, AT_SYMLINK_NOFOLLOW) == 0)
        return true;
    fprintf(stderr, "gen-captures: %s/%s: cannot set its time: %s\n", dir, rel, strerror(errno));
    return false;
}

/* Dates every shard directory by its newest capture, days first (dating
 * a directory leaves its parent's mtime alone). */
static bool
date_shards(struct gen_ctx *ctx)
{
    int64_t month_newest = 0, year_newest = 0, newest = 0;
    int month_of = -1, year_of = -1;
    char path[32];
    for (uint64_t day = 0; day <= GEN_DAYMAP_SIZE; day++) {
        struct gen_tm tm = {0};
        bool have = day < GEN_DAYMAP_SIZE && ctx->daymap[day];
        if (have)
            time_split((int64_t)day * GEN_DAY, &tm);
        /* a month or year ends: date it */
        bool last = day == GEN_DAYMAP_SIZE;
        if (month_of >= 0 && (last || (have && (int)(tm.year * 100 + tm.month) != month_of))) {
            snprintf(path, sizeof path, "%04d/%02d", month_of / 100, month_of % 100);
            if (!date_path(ctx->out_fd, ctx->out_path, path, month_newest))
                return false;
            month_of = -1;
        }
        if (year_of >= 0 && (last || (have && (int)tm.year != year_of))) {
            snprintf(path, sizeof path, "%04d", year_of);
            if (!date_path(ctx->out_fd, ctx->out_path, path, year_newest))
                return false;
            year_of = -1;
        }
        if (!have)
            continue;
        snprintf(path, sizeof path, "%04d/%02d/%02d", (int)tm.year, (int)tm.month, (int)tm.day);
        int64_t t = ctx->day_newest[day];
        if (!date_path(ctx->out_fd, ctx->out_path, path, t))
            return false;
        if (month_of < 0 || t > month_newest)
            month_newest = t;
        if (year_of < 0 || t > year_newest)
            year_newest = t;
        month_of = (int)(tm.year * 100 + tm.month);
        year_of = (int)tm.year;
        if (t > newest)
            newest = t;
    }
    return !newest || date_path(ctx->out_fd, ctx->out_path, ".", newest);
}

/* Shards by capture date: YYYY/MM/DD/<seq>.txt. Creates the directories
 * the first time a day is seen. */
static bool
capture_path(struct gen_ctx *ctx, const struct gen_item *it, char *path, size_t size)
{
    struct gen_tm tm;
    struct gen_buf b = {path, 0, size};
    time_split(it->captured, &tm);

    buf_putu(&b, tm.year, 4);
    size_t year_len = b.len;
    buf_putc(&b, '/');
    buf_putu(&b, tm.month, 2);
    size_t month_len = b.len;
    buf_putc(&b, '/');
    buf_putu(&b, tm.day, 2);
    size_t day_len = b.len;

    uint64_t day = (uint64_t)(it->captured / GEN_DAY);
    if (day >= GEN_DAYMAP_SIZE || !ctx->daymap[day]) {
        size_t cuts[3] = {year_len, month_len, day_len};
        for (size_t k = 0; k < 3; k++) {
            char saved = path[cuts[k]];
            path[cuts[k]] = '\0';
            bool ok = mkdir_at(ctx->out_fd, ctx->out_path, path);
            path[cuts[k]] = saved;
            if (!ok)
                return false;
        }
        if (day < GEN_DAYMAP_SIZE)
            ctx->daymap[day] = 1;
    }
    buf_putc(&b, '/');
    buf_putu(&b, it->index, 8);
    buf_puts(&b, ".txt");
    buf_putc(&b, '\0');
    return true;
}

static const char gen_hugo_config[] =
    "# Written by gen-captures: build only the RSS feed of each category.\n"
    "baseURL = \"https://bench.example/\"\n"
    "title = \"Bench\"\n"
    "languageCode = \"zh-cn\"\n"
    "hasCJKLanguage = true\n"
    "timeZone = \"Asia/Shanghai\"\n"
    "rssLimit = " GEN_HUGO_RSS_LIMIT "\n"
    "# \"taxonomy\" is the list of all categories; \"term\" (one category) stays.\n"
    "disableKinds = [\"home\", \"section\", \"taxonomy\", \"sitemap\", \"robotsTXT\", \"404\"]\n"
    "ignoreErrors = [\"error-disable-taxonomy\"]\n"
    "\n"
    "[taxonomies]\n"
    "  category = \"categories\"\n"
    "\n"
    "[outputs]\n"
    "  term = [\"RSS\"]\n"
    "\n"
    "# Articles feed the category terms but are never rendered themselves.\n"
    "# (\"page\" in disableKinds would drop them from the terms as well.)\n"
    "[[cascade]]\n"
    "  [cascade._build]\n"
    "    render = \"never\"\n"
    "    list = \"always\"\n"
    "  [cascade._target]\n"
    "    kind = \"page\"\n";

static bool
hugo_setup(struct gen_ctx *ctx, const char *hugo_dir)
{
    int fd = dir_open_p(hugo_dir);
    if (fd < 0)
        return false;
    bool ok = file_put(fd, hugo_dir, "hugo.toml", gen_hugo_config, sizeof(gen_hugo_config) - 1)
              && mkdir_at(fd, hugo_dir, "content")
              && mkdir_at(fd, hugo_dir, "content/posts");
    if (ok) {
        snprintf(ctx->posts_path, sizeof(ctx->posts_path), "%s/content/posts", hugo_dir);
        ctx->posts_fd = openat(fd, "content/posts", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ctx->posts_fd < 0) {
            fprintf(stderr, "gen-captures: %s: %s\n", ctx->posts_path, strerror(errno));
            ok = false;
        }
    }
    close(fd);
    return ok;
}

/* For each article, the item index of its newest capture among items
 * [0, total). Returns a new array indexed by article; free it. */
static uint64_t *
newest_captures(uint64_t seed, uint64_t total)
{
    uint64_t *winner = malloc(total * sizeof(*winner));
    int64_t *when = malloc(total * sizeof(*when));
    if (winner == NULL || when == NULL) {
        fputs("gen-captures: cannot allocate memory\n", stderr);
        abort();
    }
    for (uint64_t a = 0; a < total; a++)
        winner[a] = UINT64_MAX;
    for (uint64_t i = 0; i < total; i++) {
        struct gen_item it;
        item_resolve(seed, i, &it);
        uint64_t a = it.article;
        if (winner[a] == UINT64_MAX || it.captured >= when[a]) {
            winner[a] = i;
            when[a] = it.captured;
        }
    }
    free(when);
    return winner;
}

/* ------------------------------------------------------------------ */
/* Command line.                                                       */

struct gen_options {
    uint64_t seed;
    uint64_t count;
    uint64_t start;
    const char *out;
    const char *hugo;
    bool have_seed, have_count;
};

static void
usage(FILE *f)
{
    fputs("usage: gen-captures --seed S --count N --out DIR [--hugo DIR] [--start K]\n"
          "\n"
          "Writes items K..K+N-1 (default K = 0) of the capture sequence for seed S\n"
          "as DIR/YYYY/MM/DD/<seq>.txt. With --hugo, also writes the newest capture\n"
          "of each article as DIR/content/posts/<seq>.md plus DIR/hugo.toml.\n", f);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
    if (s == NULL || *s < '0' || *s > '9')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (uint64_t)v;
    return true;
}

enum gen_args {
    GEN_ARGS_OK = 0,
    GEN_ARGS_HELP,
    GEN_ARGS_BAD,
};

/* Options that take a value; "--name value" and "--name=value" both work. */
enum gen_opt {
    GEN_OPT_SEED,
    GEN_OPT_ITEMS,
    GEN_OPT_START,
    GEN_OPT_OUT,
    GEN_OPT_HUGO,
    GEN_OPT_COUNT,
};

static const char *const gen_opt_names[GEN_OPT_COUNT] = {
    [GEN_OPT_SEED] = "--seed",
    [GEN_OPT_ITEMS] = "--count",
    [GEN_OPT_START] = "--start",
    [GEN_OPT_OUT] = "--out",
    [GEN_OPT_HUGO] = "--hugo",
};

static enum gen_args
parse_args(int argc, char **argv, struct gen_options *opt)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        size_t o;

        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
            return GEN_ARGS_HELP;
        for (o = 0; o < GEN_OPT_COUNT; o++) {
            size_t n = strlen(gen_opt_names[o]);
            if (strncmp(arg, gen_opt_names[o], n) != 0)
                continue;
            if (arg[n] == '=')
                value = arg + n + 1;
            else if (arg[n] == '\0' && i + 1 < argc)
                value = argv[++i];
            else if (arg[n] != '\0')
                continue;
            break;
        }
        if (o == GEN_OPT_COUNT) {
            fprintf(stderr, "gen-captures: %s: unknown option\n", arg);
            return GEN_ARGS_BAD;
        }
        if (value == NULL) {
            fprintf(stderr, "gen-captures: %s: missing value\n", arg);
            return GEN_ARGS_BAD;
        }
        bool ok = true;
        switch ((enum gen_opt)o) {
        case GEN_OPT_SEED:
            ok = parse_u64(value, &opt->seed);
            opt->have_seed = true;
            break;
        case GEN_OPT_ITEMS:
            ok = parse_u64(value, &opt->count);
            opt->have_count = true;
            break;
        case GEN_OPT_START:
            ok = parse_u64(value, &opt->start);
            break;
        case GEN_OPT_OUT:
            opt->out = value;
            break;
        case GEN_OPT_HUGO:
            opt->hugo = value;
            break;
        case GEN_OPT_COUNT:
            break;
        }
        if (!ok) {
            fprintf(stderr, "gen-captures: %s: not a number: %s\n", gen_opt_names[o], value);
            return GEN_ARGS_BAD;
        }
    }
    if (!opt->have_seed || !opt->have_count || opt->out == NULL) {
        usage(stderr);
        return GEN_ARGS_BAD;
    }
    /* Sequence numbers stay far below the 64-bit Weyl period. */
    if (opt->start > (UINT64_C(1) << 40) || opt->count > (UINT64_C(1) << 40) - opt->start) {
        fputs("gen-captures: --start + --count is too large\n", stderr);
        return GEN_ARGS_BAD;
    }
    return GEN_ARGS_OK;
}

int
main(int argc, char **argv)
{
    struct gen_options opt = {0};
    struct gen_ctx ctx = {0};
    uint64_t *winner = NULL;
    int status = 1;

    ctx.out_fd = -1;
    ctx.posts_fd = -1;
    switch (parse_args(argc, argv, &opt)) {
    case GEN_ARGS_OK:
        break;
    case GEN_ARGS_HELP:
        usage(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    case GEN_ARGS_BAD:
        return 2;
    }

    ctx.seed = opt.seed;
    ctx.out_path = opt.out;
    vocab_init(&ctx.vocab);
    buf_init(&ctx.file, GEN_BUF_SIZE);
    buf_init(&ctx.para, GEN_BUF_SIZE);
    ctx.daymap = calloc(GEN_DAYMAP_SIZE, 1);
    ctx.day_newest = calloc(GEN_DAYMAP_SIZE, sizeof *ctx.day_newest);
    if (ctx.daymap == NULL || ctx.day_newest == NULL) {
        fputs("gen-captures: cannot allocate memory\n", stderr);
        abort();
    }

    ctx.out_fd = dir_open_p(opt.out);
    if (ctx.out_fd < 0)
        goto out;
    if (opt.hugo != NULL) {
        if (!hugo_setup(&ctx, opt.hugo))
            goto out;
        winner = newest_captures(ctx.seed, opt.start + opt.count);
    }

    for (uint64_t i = opt.start; i < opt.start + opt.count; i++) {
        struct gen_item it;
        struct gen_article art;
        char path[64];

        item_resolve(ctx.seed, i, &it);
        article_load(ctx.seed, &ctx.vocab, it.article, &art);

        ctx.file.len = 0;
        capture_write(&ctx, &art, &it, &ctx.file);
        if (!capture_path(&ctx, &it, path, sizeof(path))
            || !file_put(ctx.out_fd, opt.out, path, ctx.file.data, ctx.file.len)
            || !date_path(ctx.out_fd, opt.out, path, capture_utc(&it)))
            goto out;
        uint64_t day = (uint64_t)(it.captured / GEN_DAY);
        if (day < GEN_DAYMAP_SIZE && capture_utc(&it) > ctx.day_newest[day])
            ctx.day_newest[day] = capture_utc(&it);

        if (winner != NULL && winner[it.article] == i) {
            struct gen_buf name = {path, 0, sizeof(path)};
            buf_putu(&name, it.article, 8);
            buf_puts(&name, ".md");
            buf_putc(&name, '\0');
            ctx.file.len = 0;
            hugo_write(&ctx, &art, &it, &ctx.file);
            if (!file_put(ctx.posts_fd, ctx.posts_path, path, ctx.file.data, ctx.file.len))
                goto out;
        }
    }
    if (!date_shards(&ctx))
        goto out;
    status = 0;

out:
    if (ctx.posts_fd >= 0)
        close(ctx.posts_fd);
    if (ctx.out_fd >= 0)
        close(ctx.out_fd);
    free(winner);
    free(ctx.daymap);
    free(ctx.day_newest);
    buf_finish(&ctx.para);
    buf_finish(&ctx.file);
    vocab_finish(&ctx.vocab);
    return status;
}
